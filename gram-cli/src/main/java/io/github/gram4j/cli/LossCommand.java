package io.github.gram4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import io.github.gram4j.loss.GatheredBatches;
import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gram loss}: the GRAM contrastive loss of {@code .npy} embedding batches and all its
 * gradients, one-process or gathered (one rank of a distributed batch).
 *
 * <p>Writes {@code DIR/loss.json} ({@code {"loss": …, "grad_temperature": …}}),
 * {@code DIR/grad_anchor.npy}, {@code DIR/grad_input_1.npy} … and, in the gathered form,
 * {@code DIR/grad_gathered_anchor.npy}, {@code DIR/grad_gathered_input_1.npy} …. All files are
 * written to a temporary directory beside {@code DIR} first; nothing lands in {@code DIR} unless
 * everything was computed and written. Silent on success; bad input gives one {@code error:} line
 * and exit code 2.
 */
@Command(name = "loss",
        sortOptions = false,
        headerHeading = "%n",
        header = "GRAM contrastive loss and its gradients for .npy embedding batches.",
        description = "L = (CE(-V1/tau, t; eps) + CE(-V2^T/tau, t; eps)) / 2 with V1 = vol(anchors, candidates),"
                + " V2 = vol(gathered anchors, local candidates) (on one process V1 = V2 = V), targets"
                + " t_i = offset + i, cross-entropy with label smoothing eps. Writes the loss, dL/dtau and"
                + " the gradient of every input to --out-dir. --score triangle|triangle-area uses TRIANGLE's"
                + " scores of (A_i, X1_j, X2_j) in place of V (TRIANGLE's training loss).",
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n")
public final class LossCommand implements Callable<Integer> {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--anchor", required = true, paramLabel = "A.npy", description = "Anchor batch, bs x d.")
    Path anchor;

    @Option(names = "--inputs", required = true, split = ",", paramLabel = "X.npy",
            description = "Candidate batches X1[,X2,...], bs x d each; row i pairs with anchor row i.")
    List<Path> inputs;

    @Option(names = "--temperature", defaultValue = "0.07", paramLabel = "TAU",
            description = "Temperature tau > 0 (default 0.07, GRAM's initial value).")
    double temperature;

    @Option(names = "--label-smoothing", defaultValue = "0.1", paramLabel = "EPS",
            description = "Label smoothing in [0, 1] (default 0.1, GRAM's).")
    double labelSmoothing;

    @Option(names = "--score", defaultValue = "volume", converter = ScoreOption.Converter.class, paramLabel = "SCORE",
            description = ScoreOption.DESCRIPTION)
    ContrastiveScore score;

    @Option(names = "--dtype", converter = EmbeddingFiles.DtypeConverter.class, paramLabel = "DTYPE",
            description = "float32 or float64: cast all inputs to it first. Default: the anchor's dtype,"
                    + " and every input must have it.")
    DataType dtype;

    @Option(names = "--gathered-anchor", paramLabel = "GA.npy",
            description = "Gathered form: the anchors of all ranks, N x d.")
    Path gatheredAnchor;

    @Option(names = "--gathered-inputs", split = ",", paramLabel = "GX.npy",
            description = "Gathered form: the candidate batches of all ranks, N x d each, same order as --inputs.")
    List<Path> gatheredInputs;

    @Option(names = "--offset", paramLabel = "N",
            description = "Gathered form: this rank's first row in the gathered batches (rank * bs).")
    Integer offset;

    @Option(names = "--out-dir", required = true, paramLabel = "DIR",
            description = "Output directory (created if missing; files in it with the same names are replaced).")
    Path outDir;

    @Override
    public Integer call() throws IOException {
        boolean gathered = gatheredAnchor != null || gatheredInputs != null || offset != null;
        if (gathered && (gatheredAnchor == null || gatheredInputs == null || offset == null)) {
            throw new ParameterException(spec.commandLine(), "the gathered form needs --gathered-anchor,"
                    + " --gathered-inputs and --offset together");
        }
        if (gathered && gatheredInputs.size() != inputs.size()) {
            throw new ParameterException(spec.commandLine(), "--gathered-inputs must list as many files as --inputs ("
                    + inputs.size() + "), got " + gatheredInputs.size());
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new ParameterException(spec.commandLine(), "--temperature must be finite and > 0, got " + temperature);
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new ParameterException(spec.commandLine(), "--label-smoothing must be in [0, 1], got " + labelSmoothing);
        }
        ScoreOption.checkModalities(spec.commandLine(), score.cliName(), score.needsThreeModalities(), inputs);
        Path target = checkOutputDirectory(outDir);

        EmbeddingFiles local = EmbeddingFiles.read(anchor, inputs, dtype);
        GramLoss loss = new GramLoss(labelSmoothing, score);
        Temperature tau = Temperature.of(temperature);
        LossResult result;
        try {
            if (gathered) {
                EmbeddingFiles all = EmbeddingFiles.read(gatheredAnchor, gatheredInputs, dtype);
                if (all.anchor().dataType() != local.anchor().dataType()) {
                    throw new BadInputException(all.anchorName() + " is " + EmbeddingFiles.npyName(all.anchor().dataType())
                            + " but " + local.anchorName() + " is " + EmbeddingFiles.npyName(local.anchor().dataType())
                            + "; all inputs must share one dtype (or give --dtype float32|float64 to cast them)");
                }
                result = loss.compute(tau, GatheredBatches.of(local.anchor(), local.candidates(), all.anchor(),
                        all.candidates(), offset), true);
            } else {
                result = loss.compute(tau, local.anchor(), local.candidates().toArray(INDArray[]::new));
            }
        } catch (IllegalArgumentException e) {
            throw new BadInputException(filesNamed(e.getMessage(), local, gathered), e);
        }

        Map<String, INDArray> arrays = new LinkedHashMap<>();
        arrays.put("grad_anchor.npy", result.gradAnchor());
        for (int m = 0; m < result.gradCandidates().size(); m++) {
            arrays.put("grad_input_" + (m + 1) + ".npy", result.gradCandidates().get(m));
        }
        if (gathered) {
            arrays.put("grad_gathered_anchor.npy", result.gradGatheredAnchor());
            for (int m = 0; m < result.gradGatheredCandidates().size(); m++) {
                arrays.put("grad_gathered_input_" + (m + 1) + ".npy", result.gradGatheredCandidates().get(m));
            }
        }
        ObjectNode json = JSON.createObjectNode();
        json.put("loss", result.loss());
        json.put("grad_temperature", result.gradTemperature());
        writeDirectory(target, JSON.writeValueAsString(json) + "\n", arrays);
        return 0;
    }

    /** gram-loss names arguments (localAnchor, gatheredCandidates[1], …): add the files they came from. */
    private String filesNamed(String message, EmbeddingFiles local, boolean gathered) {
        String text = message.replace("localAnchor", "--anchor " + local.anchorName())
                .replace("anchor has", "--anchor " + local.anchorName() + " has");
        for (int m = inputs.size() - 1; m >= 0; m--) {
            text = text.replace("localCandidates[" + m + "]", "--inputs " + inputs.get(m))
                    .replace("candidates[" + m + "]", "--inputs " + inputs.get(m));
            if (gathered) {
                text = text.replace("gatheredCandidates[" + m + "]", "--gathered-inputs " + gatheredInputs.get(m));
            }
        }
        return gathered ? text.replace("gatheredAnchor", "--gathered-anchor " + gatheredAnchor) : text;
    }

    private static Path checkOutputDirectory(Path dir) {
        Path absolute = dir.toAbsolutePath().normalize();
        if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
            throw new BadInputException("--out-dir " + dir + ": exists and is not a directory");
        }
        Path parent = absolute.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new BadInputException("--out-dir " + dir + ": parent directory " + parent + " does not exist");
        }
        if (!Files.isWritable(parent) || Files.exists(absolute) && !Files.isWritable(absolute)) {
            throw new BadInputException("--out-dir " + dir + ": not writable");
        }
        return absolute;
    }

    /** Writes everything to a fresh sibling directory, then moves it (or its files) into place. */
    private static void writeDirectory(Path target, String json, Map<String, INDArray> arrays) throws IOException {
        Path staging = createStaging(target);
        boolean done = false;
        try {
            Files.writeString(staging.resolve("loss.json"), json, StandardCharsets.UTF_8);
            for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
                NpyFiles.writeAtomically(e.getValue(), staging.resolve(e.getKey()), "--out-dir " + e.getKey());
            }
            if (!Files.exists(target)) {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } else {
                List<Path> files = new ArrayList<>(arrays.size() + 1);
                try (Stream<Path> listing = Files.list(staging)) {
                    listing.forEach(files::add);
                }
                for (Path f : files) {
                    Files.move(f, target.resolve(f.getFileName()), StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                }
                Files.delete(staging);
            }
            done = true;
        } finally {
            if (!done) {
                deleteTree(staging);
            }
        }
    }

    private static Path createStaging(Path target) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path staging = target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong() >>> 1)
                    + ".tmp");
            try {
                return Files.createDirectory(staging);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a leftover hidden staging directory is harmless
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}

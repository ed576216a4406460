package io.github.gram4j.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.loss.GatheredBatches;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
 * {@code DIR/grad_gathered_anchor.npy}, {@code DIR/grad_gathered_input_1.npy} …, as one set
 * ({@link OutputDirectory}): staged beside {@code DIR} and put in place only when all are written,
 * replacing every file of an earlier run's set (also those this run does not write). Silent on
 * success; bad input gives one {@code error:} line and exit code 2.
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

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The names of the output set: loss.json and the gradient files, of this run or an earlier one. */
    static final Pattern OUTPUT_SET = Pattern.compile(
            "loss\\.json|grad_anchor\\.npy|grad_input_[0-9]+\\.npy|grad_gathered_anchor\\.npy|grad_gathered_input_[0-9]+\\.npy");

    @Spec
    CommandSpec spec;

    /** --anchor (bs x d), --inputs (bs x d each; row i pairs with anchor row i), --dtype. */
    @Mixin
    EmbeddingOptions files;

    @Option(names = "--temperature", defaultValue = "0.07", paramLabel = "TAU",
            description = "Temperature tau > 0 (default 0.07, GRAM's initial value).")
    double temperature;

    @Option(names = "--label-smoothing", defaultValue = "0.1", paramLabel = "EPS",
            description = "Label smoothing in [0, 1] (default 0.1, GRAM's).")
    double labelSmoothing;

    @Option(names = "--score", defaultValue = "volume", converter = ScoreOption.Converter.class, paramLabel = "SCORE",
            description = ScoreOption.DESCRIPTION)
    ContrastiveScore score;

    @Option(names = "--gathered-anchor", paramLabel = "GA.npy",
            description = "Gathered form: the anchors of all ranks, N x d.")
    Path gatheredAnchor;

    @Option(names = "--gathered-inputs", paramLabel = "GX.npy",
            description = "Gathered form: the candidate batches of all ranks, N x d each, same order as --inputs.")
    List<String> gatheredInputs;

    @Option(names = "--offset", paramLabel = "N",
            description = "Gathered form: this rank's first row in the gathered batches (rank * bs); the gathered"
                    + " rows there must equal the local ones.")
    Integer offset;

    @Option(names = "--out-dir", required = true, paramLabel = "DIR",
            description = "Output directory (created with its parents if missing). The files of the output set are"
                    + " replaced as a whole, other files stay.")
    Path outDir;

    @Override
    public Integer call() {
        boolean gathered = gatheredAnchor != null || gatheredInputs != null || offset != null;
        if (gathered && (gatheredAnchor == null || gatheredInputs == null || offset == null)) {
            throw new ParameterException(spec.commandLine(), "the gathered form needs --gathered-anchor,"
                    + " --gathered-inputs and --offset together");
        }
        List<Path> inputs = files.inputs();
        List<Path> gatheredFiles = gathered ? EmbeddingOptions.splitFiles(spec, "--gathered-inputs", gatheredInputs)
                : List.of();
        if (gathered && gatheredFiles.size() != inputs.size()) {
            throw new ParameterException(spec.commandLine(), "--gathered-inputs must list as many files as --inputs ("
                    + inputs.size() + "), got " + gatheredFiles.size());
        }
        try {
            Temperature.of(temperature); // finite and >= Double.MIN_NORMAL
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--temperature: " + e.getMessage(), e);
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new ParameterException(spec.commandLine(), "--label-smoothing must be in [0, 1], got " + labelSmoothing);
        }
        ScoreOption.checkModalities(spec.commandLine(), score.cliName(), score.needsThreeModalities(), inputs);

        EmbeddingFiles.Headers local = files.headers();
        EmbeddingFiles.Headers all = gathered ? EmbeddingFiles.headers(gatheredAnchor, gatheredFiles, files.dataType())
                : null;
        if (gathered && all.dataType() != local.dataType()) {
            throw new BadInputException(gatheredAnchor + " is " + EmbeddingFiles.npyName(all.dataType()) + " but "
                    + files.anchor() + " is " + EmbeddingFiles.npyName(local.dataType())
                    + "; all inputs must share one dtype (or give --dtype float32|float64 to cast them)");
        }
        List<Path> allInputs = new ArrayList<>(local.files());
        if (gathered) {
            allInputs.addAll(all.files());
        }
        long inputBytes = MemoryCheck.bytes(local.elements() + (gathered ? all.elements() : 0), local.itemSize());
        // memory first: the reservation may create the parent directories
        MemoryCheck.require(estimate(local, all), "loss of " + local.anchorRows() + " x "
                + (gathered ? all.anchorRows() : local.candidateRows()) + " " + EmbeddingFiles.npyName(local.dataType())
                + " volumes (k = " + local.files().size() + ")");
        try (OutputDirectory output = OutputDirectory.reserve(outDir, "--out-dir", n -> OUTPUT_SET.matcher(n).matches(),
                inputBytes, allInputs)) {
            LossResult result = compute(EmbeddingFiles.read(local), gathered ? EmbeddingFiles.read(all) : null);

            Results.requireFinite(result.loss(), "the loss");
            Results.requireFinite(result.gradTemperature(), "dL/dtau");
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
            for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
                Results.requireFinite(e.getValue(), "the gradient " + e.getKey(), "--out-dir " + outDir);
            }
            ObjectNode json = JSON.createObjectNode();
            json.put("loss", result.loss());
            json.put("grad_temperature", result.gradTemperature());
            byte[] text = (json.toString() + "\n").getBytes(StandardCharsets.UTF_8);
            output.write("loss.json", ch -> ch.write(java.nio.ByteBuffer.wrap(text)));
            for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
                output.write(e.getKey(), ch -> NpyFiles.write(e.getValue(), ch));
            }
            output.commit();
        }
        return 0;
    }

    /**
     * Checks the batches with the files' names (shapes, values, pairing, the gathered rows at
     * {@code --offset}), then computes the loss.
     */
    private LossResult compute(EmbeddingFiles local, EmbeddingFiles all) {
        ModalityBatches l = named(local);
        if (l.anchorRows() != l.candidateRows()) {
            throw new BadInputException(local.names().get(0) + " has " + l.candidateRows() + " rows but the anchor "
                    + local.anchorName() + " has " + l.anchorRows() + "; the loss pairs anchor row i with candidate row i");
        }
        GramLoss loss = new GramLoss(labelSmoothing, score);
        Temperature tau = Temperature.of(temperature);
        try {
            if (all == null) {
                return loss.compute(tau, local.anchor(), local.candidates().toArray(INDArray[]::new));
            }
            ModalityBatches g = named(all);
            if (g.anchorRows() != g.candidateRows()) {
                throw new BadInputException(all.names().get(0) + " has " + g.candidateRows() + " rows but the gathered"
                        + " anchor " + all.anchorName() + " has " + g.anchorRows() + "; gathered batches pair row i with row i");
            }
            if (g.dim() != l.dim()) {
                throw new BadInputException("the gathered anchor " + all.anchorName() + " has dim " + g.dim() + " but the"
                        + " anchor " + local.anchorName() + " has dim " + l.dim());
            }
            long bs = l.anchorRows();
            long n = g.anchorRows();
            if (offset < 0 || offset + bs > n) {
                throw new BadInputException("--offset must be in 0.." + (n - bs) + " (local bs = " + bs
                        + " rows of " + local.anchorName() + ", gathered N = " + n + " rows of " + all.anchorName()
                        + "), got " + offset);
            }
            checkGatheredRows(local.anchorName(), local.anchor(), all.anchorName(), all.anchor());
            for (int m = 0; m < local.candidates().size(); m++) {
                checkGatheredRows(local.names().get(m), local.candidates().get(m), all.names().get(m),
                        all.candidates().get(m));
            }
            return loss.compute(tau, GatheredBatches.of(local.anchor(), local.candidates(), all.anchor(),
                    all.candidates(), offset), true);
        } catch (IllegalArgumentException e) {
            // what the library finds beyond the checks above (e.g. a result beyond the dtype's range)
            throw new BadInputException(e.getMessage(), e);
        }
    }

    private static ModalityBatches named(EmbeddingFiles f) {
        try {
            return ModalityBatches.named(f.anchorName(), f.anchor(), f.names(), f.candidates());
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e); // names the files
        }
    }

    /** The gathered rows {@code offset …} must be this rank's local rows, exactly. */
    private void checkGatheredRows(String localName, INDArray local, String gatheredName, INDArray gathered) {
        long bs = local.rows();
        INDArray rows = gathered.get(NDArrayIndex.interval(offset.longValue(), offset + bs), NDArrayIndex.all());
        if (rows.equalsWithEps(local, 0.0)) {
            return;
        }
        double[][] a = local.toDoubleMatrix();
        double[][] b = rows.toDoubleMatrix();
        for (int i = 0; i < a.length; i++) {
            if (!java.util.Arrays.equals(a[i], b[i])) {
                throw new BadInputException("--offset " + offset + ": row " + (offset + i) + " of " + gatheredName
                        + " differs from row " + i + " of " + localName + "; the gathered rows at --offset must be this"
                        + " rank's local rows (is --offset rank * bs?)");
            }
        }
    }

    /**
     * A lower bound of the bytes the loss needs: the inputs, their gradients, and per direction the
     * volume matrix and the score matrix of the cross-entropy.
     */
    static long estimate(EmbeddingFiles.Headers local, EmbeddingFiles.Headers all) {
        double inputs = local.elements() + (all == null ? 0 : all.elements());
        double n = all == null ? local.candidateRows() : all.anchorRows();
        double pairs = local.anchorRows() * n;
        return MemoryCheck.bytes(2 * inputs + 4 * pairs, local.itemSize());
    }
}

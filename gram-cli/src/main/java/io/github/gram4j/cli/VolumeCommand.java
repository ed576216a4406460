package io.github.gram4j.cli;

import java.util.concurrent.Callable;

import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.VolumeMethod;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gram volume}: the pairwise GRAM volume matrix of {@code .npy} embedding batches,
 * {@code V[i][j] = vol(anchor_i, X1_j, …, XK_j)}, written as a {@code B1 × B2} {@code .npy}.
 *
 * <p>Silent on success. Before any work, the output is checked ({@link OutputFile}: not an input,
 * writable, room on disk) and the memory the result needs is compared with the JVM's limits
 * ({@link MemoryCheck}). Bad input (see {@link NpyFiles} and {@link ModalityBatches}) gives one
 * {@code error:} line naming the file and exit code 2; the output file is only ever replaced
 * atomically after a successful computation.
 */
@Command(name = "volume",
        sortOptions = false,
        headerHeading = "%n",
        header = "Pairwise GRAM volumes of .npy embedding batches.",
        description = "Reads the anchor batch A (B1 x d) and K >= 1 candidate batches X1..XK (B2 x d each)"
                + " and writes V (B1 x B2) with V[i][j] = vol(A_i, X1_j, ..., XK_j) = sqrt(|det G|), G the"
                + " Gram matrix of those k = K + 1 vectors. Inputs are 2-D float32 or float64 .npy files"
                + " (numpy.save, C or Fortran order); V is written in the computation dtype."
                + " Nothing is printed on success. With --score triangle or triangle-area, V holds TRIANGLE"
                + " scores of (A_i, X1_j, X2_j) instead.",
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n")
public final class VolumeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EmbeddingOptions files;

    @Option(names = "--out", required = true, paramLabel = "V.npy",
            description = "Output .npy, B1 x B2. Written to a temporary file in the same directory and"
                    + " renamed over V.npy only on success; must not be one of the inputs.")
    java.nio.file.Path out;

    @Option(names = "--method", defaultValue = "fast", paramLabel = "METHOD",
            description = "fast (default) or reference (the seed's Gram-tensor determinants; small inputs).")
    VolumeMethod method;

    @Option(names = "--score", defaultValue = "volume", converter = ScoreOption.Converter.class, paramLabel = "SCORE",
            description = ScoreOption.DESCRIPTION)
    ContrastiveScore score;

    @Override
    public Integer call() {
        ScoreOption.checkModalities(spec.commandLine(), score.cliName(), score.needsThreeModalities(), files.inputs());
        if (score != ContrastiveScore.GRAM_VOLUME && method == VolumeMethod.REFERENCE) {
            throw new ParameterException(spec.commandLine(), "--method reference applies to --score volume only");
        }
        EmbeddingFiles.Headers headers = files.headers();
        long b1 = headers.anchorRows();
        long b2 = headers.candidateRows();
        int k = headers.files().size();
        long resultBytes = MemoryCheck.bytes((double) b1 * b2, headers.itemSize());
        try (OutputFile output = OutputFile.reserve(out, "--out", resultBytes, headers.files())) {
            MemoryCheck.require(estimate(headers, method), "--out " + out + ": the " + b1 + " x " + b2 + " "
                    + EmbeddingFiles.npyName(headers.dataType()) + " volume matrix (method " + method + ", k = " + k + ")");
            EmbeddingFiles read = EmbeddingFiles.read(headers);
            INDArray v;
            try {
                ModalityBatches batches = ModalityBatches.named(read.anchorName(), read.anchor(), read.names(),
                        read.candidates());
                v = score == ContrastiveScore.GRAM_VOLUME ? GramVolumes.pairwise(method, batches)
                        : score.pairwise(batches);
            } catch (IllegalArgumentException e) {
                // gram-core's documented contract: bad input, with the file names in the message
                throw new BadInputException(e.getMessage(), e);
            }
            Results.requireFinite(v, score == ContrastiveScore.GRAM_VOLUME ? "the volumes" : "the " + score.cliName() + " scores",
                    "--out " + out);
            output.write(ch -> NpyFiles.write(v, ch));
        }
        return 0;
    }

    /**
     * A lower bound of the bytes the volumes need: the inputs and the result, plus the Gram tensor
     * ({@code B1·B2·k²}) of the REFERENCE method.
     */
    static long estimate(EmbeddingFiles.Headers h, VolumeMethod method) {
        double pairs = (double) h.anchorRows() * h.candidateRows();
        int k = h.files().size();
        double elements = h.elements() + pairs + (method == VolumeMethod.REFERENCE ? pairs * k * k : 0);
        return MemoryCheck.bytes(elements, h.itemSize());
    }
}

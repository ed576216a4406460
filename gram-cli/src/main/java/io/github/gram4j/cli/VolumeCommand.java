package io.github.gram4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.VolumeMethod;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code gram volume}: the pairwise GRAM volume matrix of {@code .npy} embedding batches,
 * {@code V[i][j] = vol(anchor_i, X1_j, …, XK_j)}, written as a {@code B1 × B2} {@code .npy}.
 *
 * <p>Silent on success. Bad input (see {@link NpyFiles} and {@link ModalityBatches}) gives one
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

    @Option(names = "--anchor", required = true, paramLabel = "A.npy",
            description = "Anchor batch, B1 x d.")
    Path anchor;

    @Option(names = "--inputs", required = true, split = ",", paramLabel = "X.npy",
            description = "Candidate batches X1[,X2,...], B2 x d each (comma-separated, or repeat the option).")
    List<Path> inputs;

    @Option(names = "--out", required = true, paramLabel = "V.npy",
            description = "Output .npy, B1 x B2. Written to a temporary file in the same directory and"
                    + " renamed over V.npy only on success.")
    Path out;

    @Option(names = "--method", defaultValue = "fast", converter = MethodConverter.class, paramLabel = "METHOD",
            description = "fast (default) or reference (the seed's Gram-tensor determinants; small inputs).")
    VolumeMethod method;

    @Option(names = "--score", defaultValue = "volume", converter = ScoreOption.Converter.class, paramLabel = "SCORE",
            description = ScoreOption.DESCRIPTION)
    ContrastiveScore score;

    @Option(names = "--dtype", converter = EmbeddingFiles.DtypeConverter.class, paramLabel = "DTYPE",
            description = "float32 or float64: cast all inputs to it first. Default: the anchor's dtype,"
                    + " and every input must have it.")
    DataType dtype;

    @Override
    public Integer call() throws IOException {
        if (anchor.toString().isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--anchor: empty file name");
        }
        for (Path p : inputs) {
            if (p.toString().isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--inputs: empty file name in '"
                        + String.join(",", inputs.stream().map(Path::toString).toList()) + "'");
            }
        }
        ScoreOption.checkModalities(spec.commandLine(), score.cliName(), score.needsThreeModalities(), inputs);
        if (score != ContrastiveScore.GRAM_VOLUME && method == VolumeMethod.REFERENCE) {
            throw new ParameterException(spec.commandLine(), "--method reference applies to --score volume only");
        }
        Path target = NpyFiles.checkOutput(out, "--out");

        EmbeddingFiles files = EmbeddingFiles.read(anchor, inputs, dtype);

        INDArray v;
        try {
            ModalityBatches batches = ModalityBatches.named(files.anchorName(), files.anchor(), files.names(),
                    files.candidates());
            v = score == ContrastiveScore.GRAM_VOLUME ? GramVolumes.pairwise(method, batches) : score.pairwise(batches);
        } catch (IllegalArgumentException e) {
            // gram-core's documented contract: bad input, with the file names in the message
            throw new BadInputException(e.getMessage(), e);
        }
        NpyFiles.writeAtomically(v, target, "--out " + out);
        return 0;
    }

    /** {@code fast} | {@code reference}, any case. */
    static final class MethodConverter implements ITypeConverter<VolumeMethod> {
        @Override
        public VolumeMethod convert(String value) {
            for (VolumeMethod m : VolumeMethod.values()) {
                if (m.name().equalsIgnoreCase(value.strip())) {
                    return m;
                }
            }
            throw new TypeConversionException("expected fast or reference, got '" + value + "'");
        }
    }
}

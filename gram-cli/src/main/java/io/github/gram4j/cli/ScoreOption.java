package io.github.gram4j.cli;

import java.nio.file.Path;
import java.util.List;

import io.github.gram4j.core.ContrastiveScore;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code --score volume|triangle|triangle-area} option of {@code gram volume} and
 * {@code gram loss}: its converter and the modality-count check of the TRIANGLE scores.
 */
final class ScoreOption {

    /** The option's help text. */
    static final String DESCRIPTION = "volume (default): GRAM volume of (A_i, X1_j, ..., XK_j)."
            + " triangle: TRIANGLE's training score (|u|^2|w|^2 - (u.w)^2)/2, u = A_i - X1_j, w = A_i - X2_j."
            + " triangle-area: the triangle's area sqrt(|u|^2|w|^2 - (u.w)^2)/2. The triangle scores need exactly"
            + " two --inputs files. Lower is better for all three.";

    private ScoreOption() {
    }

    /** {@code volume} | {@code triangle} | {@code triangle-area}, any case. */
    static final class Converter implements ITypeConverter<ContrastiveScore> {
        @Override
        public ContrastiveScore convert(String value) {
            try {
                return ContrastiveScore.fromCliName(value.strip());
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("expected volume, triangle or triangle-area, got '" + value + "'");
            }
        }
    }

    /**
     * @throws ParameterException (exit 2) if {@code score} needs three modalities and
     *     {@code inputs} does not hold exactly two files
     */
    static void checkModalities(CommandLine commandLine, String scoreName, boolean needsThree, List<Path> inputs) {
        if (needsThree && inputs.size() != 2) {
            throw new ParameterException(commandLine, "--score " + scoreName + " needs exactly 3 modalities (--anchor"
                    + " and 2 --inputs files), got " + (inputs.size() + 1) + " ("
                    + String.join(",", inputs.stream().map(Path::toString).toList()) + " as --inputs)");
        }
    }
}

package io.github.gram4j.cli;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * The last check before a command writes a result: finite input must never give an Inf or NaN
 * output (nor a JSON string like {@code "-Infinity"}). If the library lets one through (a volume
 * or logit beyond the dtype's range), the command refuses to write it and says what to change.
 */
final class Results {

    private static final String REMEDY = "; normalise the rows, use --dtype float64, or (loss) a larger --temperature";

    private Results() {
    }

    /** @throws BadInputException if {@code value} is Inf or NaN */
    static void requireFinite(double value, String what) {
        if (!Double.isFinite(value)) {
            throw new BadInputException(what + " is " + value + " for these inputs: beyond the range of the computation"
                    + " dtype" + REMEDY);
        }
    }

    /** @throws BadInputException naming the output, if {@code x} holds an Inf or NaN */
    static void requireFinite(INDArray x, String what, String output) {
        if (BooleanIndexing.or(x, Conditions.notFinite())) {
            throw new BadInputException(output + ": " + what + " are not finite for these inputs (beyond the "
                    + EmbeddingFiles.npyName(x.dataType()) + " range); nothing was written" + REMEDY);
        }
    }
}

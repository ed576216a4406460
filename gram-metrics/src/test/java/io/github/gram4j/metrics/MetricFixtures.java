package io.github.gram4j.metrics;

import java.io.File;
import java.util.List;

import io.github.gram4j.core.testing.Fixtures;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The retrieval-metric fixtures of {@code reference/generate_loss_fixtures.py}
 * ({@code fixtures/metrics/}: {@code index.tsv} with {@code name b1 b2 score note}, and
 * {@code NAME.PART.npy}).
 */
final class MetricFixtures {

    /** One line of {@code index.tsv}. */
    record Case(File dir, String name, int b1, int b2, String score, String note) {

        ScoreOrder order() {
            switch (score) {
                case "volume":
                    return ScoreOrder.LOWER_IS_BETTER;
                case "cosine":
                    return ScoreOrder.HIGHER_IS_BETTER;
                default:
                    throw new IllegalStateException(name + ": unknown score kind " + score);
            }
        }

        INDArray array(String part) {
            File f = new File(dir, name + "." + part + ".npy");
            if (!f.isFile()) {
                throw new IllegalStateException("missing fixture file " + f);
            }
            return Nd4j.createFromNpyFile(f);
        }

        INDArray scores() {
            return array("scores");
        }

        long[] longs(String part) {
            return array(part).toLongVector();
        }

        int[] ints(String part) {
            return array(part).toIntVector();
        }

        double[] doubles(String part) {
            return array(part).toDoubleVector();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private MetricFixtures() {
    }

    static List<Case> all() {
        File dir = Fixtures.directory("metrics");
        return Fixtures.rows("metrics").stream()
                .map(row -> new Case(dir, row.get("name"), Integer.parseInt(row.get("b1")),
                        Integer.parseInt(row.get("b2")), row.get("score"), row.get("note")))
                .toList();
    }
}

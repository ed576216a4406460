package io.github.gram4j.metrics;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

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
        URL index = MetricFixtures.class.getResource("/fixtures/metrics/index.tsv");
        if (index == null) {
            throw new IllegalStateException("fixtures/metrics/index.tsv is not on the test classpath");
        }
        try {
            File file = new File(index.toURI());
            List<String> lines = Files.readAllLines(file.toPath(), StandardCharsets.US_ASCII);
            if (!lines.get(0).equals("name\tb1\tb2\tscore\tnote")) {
                throw new IllegalStateException("unexpected index.tsv header: " + lines.get(0));
            }
            List<Case> cases = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                if (line.isBlank()) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                cases.add(new Case(file.getParentFile(), f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]), f[3],
                        f[4]));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}

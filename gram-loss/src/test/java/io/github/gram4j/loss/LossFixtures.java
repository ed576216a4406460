package io.github.gram4j.loss;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The loss fixtures of {@code reference/generate_loss_fixtures.py} (PyTorch autograd in float64):
 * {@code fixtures/loss/index.tsv} and {@code CASE.PART.npy} arrays.
 */
final class LossFixtures {

    /** One case: its index row and its arrays. */
    record Case(File dir, Map<String, String> row) {

        String name() {
            return row.get("name");
        }

        String form() {
            return row.get("form");
        }

        int k() {
            return Integer.parseInt(row.get("k"));
        }

        int offset() {
            return Integer.parseInt(row.get("offset"));
        }

        double temperature() {
            return Double.parseDouble(row.get("temperature"));
        }

        double labelSmoothing() {
            return Double.parseDouble(row.get("label_smoothing"));
        }

        boolean has(String part) {
            return new File(dir, name() + "." + part + ".npy").isFile();
        }

        INDArray array(String part) {
            File f = new File(dir, name() + "." + part + ".npy");
            if (!f.isFile()) {
                throw new IllegalStateException("missing fixture file " + f);
            }
            return Nd4j.createFromNpyFile(f);
        }

        /** A float64 array converted to {@code type}. */
        INDArray array(String part, DataType type) {
            return array(part).castTo(type);
        }

        double scalar(String part) {
            return array(part).getDouble(0);
        }

        /** {@code prefix1 … prefix{k−1}}, converted to {@code type}. */
        List<INDArray> inputs(String prefix, DataType type) {
            List<INDArray> xs = new ArrayList<>();
            for (int m = 1; m < k(); m++) {
                xs.add(array(prefix + m, type));
            }
            return xs;
        }

        @Override
        public String toString() {
            return name();
        }
    }

    private LossFixtures() {
    }

    static List<Case> load(String set, String form) {
        URL index = LossFixtures.class.getResource("/fixtures/" + set + "/index.tsv");
        if (index == null) {
            throw new IllegalStateException("fixtures/" + set + "/index.tsv is not on the test classpath");
        }
        try {
            File file = new File(index.toURI());
            List<String> lines = Files.readAllLines(file.toPath());
            List<String> header = Arrays.asList(lines.get(0).split("\t"));
            List<Case> cases = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split("\t", -1);
                Map<String, String> row = new LinkedHashMap<>();
                for (int c = 0; c < header.size(); c++) {
                    row.put(header.get(c), cells[c]);
                }
                if (form == null || form.equals(row.get("form"))) {
                    cases.add(new Case(file.getParentFile(), row));
                }
            }
            if (cases.isEmpty()) {
                throw new IllegalStateException("no fixture case of form " + form + " in " + file);
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}

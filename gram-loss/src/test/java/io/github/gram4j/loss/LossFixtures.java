package io.github.gram4j.loss;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.github.gram4j.core.testing.Fixtures;
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
        File dir = Fixtures.directory(set);
        List<Case> cases = Fixtures.rows(set).stream()
                .filter(row -> form == null || form.equals(row.get("form")))
                .map(row -> new Case(dir, row))
                .toList();
        if (cases.isEmpty()) {
            throw new IllegalStateException("no fixture case of form " + form + " in fixtures/" + set);
        }
        return cases;
    }
}

package io.github.gram4j.core.testing;

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
import java.util.function.Predicate;
import java.util.stream.Collectors;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads the fixtures that {@code reference/generate_fixtures.py} writes from the PyTorch
 * formulas: an {@code index.tsv} (one case per line) and {@code .npy} arrays named
 * {@code CASE.PART.npy}. Inputs are stored as float64 holding float32-representable values, so the
 * same numbers feed FLOAT and DOUBLE runs.
 */
public final class Fixtures {

    /** One line of {@code index.tsv}. */
    public record Case(File dir, String name, String kind, int k, int b1, int b2, int dim, boolean normalized,
            String note) {

        /** Array {@code NAME.part.npy}, as stored. */
        public INDArray array(String part) {
            File f = new File(dir, name + "." + part + ".npy");
            if (!f.isFile()) {
                throw new IllegalStateException("missing fixture file " + f);
            }
            return Nd4j.createFromNpyFile(f);
        }

        public boolean exists(String part) {
            return new File(dir, name + "." + part + ".npy").isFile();
        }

        /** The {@code K = k − 1} candidate batches {@code input1 … input{K}}. */
        public List<INDArray> inputs() {
            List<INDArray> xs = new ArrayList<>();
            for (int m = 1; m < k; m++) {
                xs.add(array("input" + m));
            }
            return xs;
        }

        public boolean degenerate() {
            return name.startsWith("deg_") || name.contains("collinear") || name.contains("inspan");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private Fixtures() {
    }

    /** All cases of the fixture set under test resource folder {@code fixtures/SET}. */
    public static List<Case> load(String set, Predicate<Case> filter) {
        File dir = directory(set);
        return rows(set).stream()
                .map(row -> new Case(dir, row.get("name"), row.get("kind"), Integer.parseInt(row.get("k")),
                        Integer.parseInt(row.get("b1")), Integer.parseInt(row.get("b2")), Integer.parseInt(row.get("d")),
                        Boolean.parseBoolean(row.get("normalized")), row.get("note")))
                .filter(filter)
                .collect(Collectors.toList());
    }

    /** The folder of fixture set {@code SET} ({@code fixtures/SET} on the test classpath). */
    public static File directory(String set) {
        return index(set).getParentFile();
    }

    /** The lines of {@code fixtures/SET/index.tsv}, each as a map from column name to cell, in order. */
    public static List<Map<String, String>> rows(String set) {
        try {
            List<String> lines = Files.readAllLines(index(set).toPath());
            List<String> header = Arrays.asList(lines.get(0).split("\t"));
            List<Map<String, String>> rows = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split("\t", -1);
                Map<String, String> row = new LinkedHashMap<>();
                for (int c = 0; c < header.size(); c++) {
                    row.put(header.get(c), cells[c]);
                }
                rows.add(row);
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static File index(String set) {
        URL index = Fixtures.class.getResource("/fixtures/" + set + "/index.tsv");
        if (index == null) {
            throw new IllegalStateException("fixture index fixtures/" + set + "/index.tsv not on the test classpath");
        }
        try {
            return new File(index.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}

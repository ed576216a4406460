package io.github.gram4j.cli;

import static io.github.gram4j.cli.NpyTestFiles.floats;
import static io.github.gram4j.cli.NpyTestFiles.random;
import static io.github.gram4j.cli.NpyTestFiles.joined;
import static io.github.gram4j.cli.NpyTestFiles.write;
import static io.github.gram4j.cli.NpyTestFiles.writeAll;
import static io.github.gram4j.cli.NpyTestFiles.writeRaw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.metrics.DirectionMetrics;
import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.metrics.ScoreOrder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class EvalCommandTest {

    private static final int B = 12;
    private static final int D = 8;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> KEYS = List.of("R@1", "R@5", "R@10", "MedR", "MeanR");

    @TempDir
    Path dir;

    // ---------------------------------------------------------------- helpers

    /**
     * Embeddings of {@code b2} items: candidate batch {@code m} holds {@code z_j + 0.5·noise}, and
     * anchor row {@code i} is {@code z_{item[i]} + 1.5·noise}, so that positives tend to have small
     * volumes and large cosines without always ranking first.
     */
    private static List<INDArray> embeddings(int k, int b1, int b2, int[] item, DataType dataType, long seed) {
        INDArray z = random(seed, b2, D, DataType.DOUBLE);
        INDArray noise = random(seed + 100, b1, D, DataType.DOUBLE).muli(1.5);
        INDArray anchor = Nd4j.create(DataType.DOUBLE, b1, D);
        for (int i = 0; i < b1; i++) {
            anchor.putRow(i, z.getRow(item[i]).add(noise.getRow(i)));
        }
        List<INDArray> arrays = new ArrayList<>();
        arrays.add(anchor.castTo(dataType));
        for (int m = 1; m < k; m++) {
            arrays.add(z.add(random(seed + m, b2, D, DataType.DOUBLE).muli(0.5)).castTo(dataType));
        }
        return arrays;
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        Arrays.setAll(p, i -> i);
        return p;
    }



    private static String[] args(String... a) {
        return a;
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private Path text(String file, String contents) throws IOException {
        return Files.writeString(dir.resolve(file), contents, StandardCharsets.UTF_8);
    }

    private static String lines(List<String> ids) {
        return ids.stream().map(s -> s + "\n").collect(Collectors.joining());
    }

    /** Runs {@code gram eval …}, checks the success contract and returns the parsed JSON. */
    private static JsonNode evalOk(String... args) throws IOException {
        CliRun r = CliRun.of(concat(args("eval"), args));
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals("", r.err(), r::describe);
        assertTrue(r.out().endsWith("\n"), r::describe);
        assertEquals(1, r.out().lines().count(), r::describe);
        JsonNode root = JSON.readTree(r.out());
        assertEquals(List.of("anchor_to_candidate", "candidate_to_anchor"), fieldNames(root), r::describe);
        for (JsonNode d : root) {
            assertEquals(KEYS, fieldNames(d), r::describe);
            d.forEach(v -> assertTrue(v.isDouble(), r::describe));
        }
        return root;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
            names.add(it.next());
        }
        return names;
    }

    /** Every number of the JSON equals the library's metric exactly (full precision). */
    private static void assertJsonEquals(RetrievalMetrics expected, JsonNode root) {
        assertDirection(expected.anchorToCandidate(), root.get("anchor_to_candidate"));
        assertDirection(expected.candidateToAnchor(), root.get("candidate_to_anchor"));
    }

    private static void assertDirection(DirectionMetrics expected, JsonNode d) {
        double[] want = expected.toArray();
        for (int q = 0; q < KEYS.size(); q++) {
            assertEquals(want[q], d.get(KEYS.get(q)).doubleValue(), 0.0, KEYS.get(q));
        }
    }

    private static INDArray volumes(List<INDArray> arrays) {
        return GramVolumes.pairwise(arrays.get(0), arrays.subList(1, arrays.size()).toArray(INDArray[]::new));
    }

    /** Cosine similarities computed here in double precision. */
    private static INDArray cosineByHand(INDArray a, INDArray x) {
        double[][] av = a.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] xv = x.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] s = new double[av.length][xv.length];
        for (int i = 0; i < av.length; i++) {
            for (int j = 0; j < xv.length; j++) {
                double dot = 0;
                double na = 0;
                double nx = 0;
                for (int c = 0; c < D; c++) {
                    dot += av[i][c] * xv[j][c];
                    na += av[i][c] * av[i][c];
                    nx += xv[j][c] * xv[j][c];
                }
                s[i][j] = dot / Math.sqrt(na) / Math.sqrt(nx);
            }
        }
        return Nd4j.create(s);
    }

    // ---------------------------------------------------------------- results

    static Stream<Arguments> kAndDtype() {
        return Stream.of(2, 3, 4, 5).flatMap(k -> Stream.of(DataType.FLOAT, DataType.DOUBLE)
                .map(t -> Arguments.of(k, t)));
    }

    @ParameterizedTest(name = "k={0} {1}")
    @MethodSource("kAndDtype")
    void volumeMetricsWithRowIdentity(int k, DataType dataType) throws IOException {
        List<INDArray> arrays = embeddings(k, B, B, identity(B), dataType, 10L * k);
        List<Path> paths = writeAll(dir, arrays);
        JsonNode root = evalOk("--anchor", paths.get(0).toString(), "--inputs", joined(paths.subList(1, k)));
        // volumes in the files' dtype, as GRAM computes them
        RetrievalMetrics expected = RetrievalMetrics.compute(volumes(arrays), ScoreOrder.LOWER_IS_BETTER);
        assertJsonEquals(expected, root);
        // and the example is not degenerate: some positives rank first, not all
        double r1 = root.get("anchor_to_candidate").get("R@1").doubleValue();
        assertTrue(r1 > 0 && r1 < 100, "R@1 = " + r1);
    }

    @Test
    void explicitScoreVolumeAndRepeatedInputs() throws IOException {
        List<INDArray> arrays = embeddings(3, B, B, identity(B), DataType.DOUBLE, 3);
        List<Path> paths = writeAll(dir, arrays);
        JsonNode root = evalOk("--anchor", paths.get(0).toString(), "--inputs", paths.get(1).toString(), "--inputs",
                paths.get(2).toString(), "--score", "Volume");
        assertJsonEquals(RetrievalMetrics.compute(volumes(arrays), ScoreOrder.LOWER_IS_BETTER), root);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"cosine", "COSINE"})
    void cosineMetrics(String option) throws IOException {
        List<INDArray> arrays = embeddings(2, B, B, identity(B), DataType.DOUBLE, 5);
        List<Path> paths = writeAll(dir, arrays);
        JsonNode root = evalOk("--anchor", paths.get(0).toString(), "--inputs", paths.get(1).toString(),
                "--score", option);
        INDArray s = cosineByHand(arrays.get(0), arrays.get(1));
        assertJsonEquals(RetrievalMetrics.compute(s, ScoreOrder.HIGHER_IS_BETTER), root);
        // not the volume ranking read the other way: cosine is its own score
        double r1 = root.get("anchor_to_candidate").get("R@1").doubleValue();
        assertTrue(r1 > 0 && r1 < 100, "R@1 = " + r1);
    }

    @Test
    void cosineOfFloatFiles() throws IOException {
        List<INDArray> arrays = embeddings(2, B, B, identity(B), DataType.FLOAT, 6);
        List<Path> paths = writeAll(dir, arrays);
        JsonNode root = evalOk("--anchor", paths.get(0).toString(), "--inputs", paths.get(1).toString(),
                "--score", "cosine");
        // random scores have no near-ties, so float32 and float64 cosines rank alike
        INDArray s = cosineByHand(arrays.get(0), arrays.get(1));
        assertJsonEquals(RetrievalMetrics.compute(s, ScoreOrder.HIGHER_IS_BETTER), root);
    }

    @Test
    void mixedFloat32AndFloat64FilesNeedDtypeLikeEveryCommand() throws IOException {
        List<INDArray> arrays = embeddings(3, B, B, identity(B), DataType.DOUBLE, 7);
        arrays.set(2, arrays.get(2).castTo(DataType.FLOAT));
        List<Path> paths = writeAll(dir, arrays);
        // the one rule of volume, loss and eval: a mix is refused without --dtype ...
        CliRun.of("eval", "--anchor", paths.get(0).toString(), "--inputs", joined(paths.subList(1, 3)))
                .assertOneErrorLine(2, paths.get(2).toString(), "is float32 but the anchor", "--dtype");
        // ... and scored in the dtype --dtype names
        JsonNode root = evalOk("--anchor", paths.get(0).toString(), "--inputs", joined(paths.subList(1, 3)),
                "--dtype", "Float64");
        List<INDArray> promoted = arrays.stream().map(a -> a.castTo(DataType.DOUBLE)).toList();
        assertJsonEquals(RetrievalMetrics.compute(volumes(promoted), ScoreOrder.LOWER_IS_BETTER), root);
    }

    /** 20 captions (anchors) of 5 videos (candidates), ids as arbitrary strings. */
    private static final List<String> VIDEOS = List.of("vid 7", "vidéo-2", "v3", "V3", "clip_0");

    private static int[] captionItems(int captions, long seed) {
        java.util.Random rnd = new java.util.Random(seed);
        int[] item = new int[captions];
        for (int i = 0; i < captions; i++) {
            item[i] = i < VIDEOS.size() ? i : rnd.nextInt(VIDEOS.size());
        }
        return item;
    }

    private static long[] numbered(List<String> ids, Map<String, Long> number) {
        return ids.stream().mapToLong(number::get).toArray();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"volume", "cosine"})
    void manyCaptionsPerVideo(String score) throws IOException {
        int captions = 20;
        int[] item = captionItems(captions, 9);
        int k = score.equals("volume") ? 3 : 2;
        List<INDArray> arrays = embeddings(k, captions, VIDEOS.size(), item, DataType.DOUBLE, 11);
        List<Path> paths = writeAll(dir, arrays);
        List<String> capIds = Arrays.stream(item).mapToObj(VIDEOS::get).toList();
        Path a = text("captions.txt", lines(capIds));
        Path c = text("videos.txt", String.join("\n", VIDEOS)); // no final newline
        JsonNode root = evalOk("--anchor", paths.get(0).toString(), "--inputs", joined(paths.subList(1, k)),
                "--anchor-ids", a.toString(), "--candidate-ids", c.toString(), "--score", score);

        Map<String, Long> number = new HashMap<>();
        for (int j = 0; j < VIDEOS.size(); j++) {
            number.put(VIDEOS.get(j), (long) j);
        }
        INDArray s = score.equals("volume") ? volumes(arrays) : cosineByHand(arrays.get(0), arrays.get(1));
        ScoreOrder order = score.equals("volume") ? ScoreOrder.LOWER_IS_BETTER : ScoreOrder.HIGHER_IS_BETTER;
        RetrievalMetrics expected = RetrievalMetrics.compute(s, order, numbered(capIds, number),
                numbered(VIDEOS, number));
        assertJsonEquals(expected, root);
        // "v3" and "V3" are different videos: ids are compared exactly
        assertTrue(expected.candidateToAnchor().meanRank() >= 1);
    }

    @Test
    void anchorsAndCandidatesMaySwapRoles() throws IOException {
        // videos as anchors, captions as candidates: anchor-to-candidate ranks the FIRST caption of the video
        int captions = 15;
        int[] item = captionItems(captions, 13);
        List<INDArray> cap = embeddings(2, captions, VIDEOS.size(), item, DataType.DOUBLE, 17);
        Path videos = write(dir.resolve("videos.npy"), cap.get(1));
        Path caps = write(dir.resolve("captions.npy"), cap.get(0));
        List<String> capIds = Arrays.stream(item).mapToObj(VIDEOS::get).toList();
        Path vIds = text("videos.txt", lines(VIDEOS));
        Path cIds = text("captions.txt", lines(capIds));
        JsonNode root = evalOk("--anchor", videos.toString(), "--inputs", caps.toString(), "--anchor-ids",
                vIds.toString(), "--candidate-ids", cIds.toString());
        Map<String, Long> number = new HashMap<>();
        for (int j = 0; j < VIDEOS.size(); j++) {
            number.put(VIDEOS.get(j), (long) j);
        }
        RetrievalMetrics expected = RetrievalMetrics.compute(GramVolumes.pairwise(cap.get(1), cap.get(0)),
                ScoreOrder.LOWER_IS_BETTER, numbered(VIDEOS, number), numbered(capIds, number));
        assertJsonEquals(expected, root);
    }

    @Test
    void idFilesMayUseCrlfAByteOrderMarkAndTrailingBlankLines() throws IOException {
        List<INDArray> arrays = embeddings(2, 4, 4, identity(4), DataType.DOUBLE, 19);
        List<Path> paths = writeAll(dir, arrays);
        // anchors in reverse order: anchor i is item 3 - i; blank lines after the last id are ignored
        Path a = text("a.txt", "\uFEFFd\r\nc\r\nb\r\na\r\n\r\n");
        Path c = text("c.txt", "a\nb\nc\nd\n \n\n");
        JsonNode root = evalOk("--anchor", paths.get(0).toString(), "--inputs", paths.get(1).toString(),
                "--anchor-ids", a.toString(), "--candidate-ids", c.toString());
        RetrievalMetrics expected = RetrievalMetrics.compute(volumes(arrays), ScoreOrder.LOWER_IS_BETTER,
                new long[] {3, 2, 1, 0}, new long[] {0, 1, 2, 3});
        assertJsonEquals(expected, root);
    }

    @Test
    void printsExactlyThisJson() throws IOException {
        // identical anchor and candidate rows: every positive has volume 0 and ranks first
        INDArray x = random(23, 3, D, DataType.DOUBLE);
        Path p = write(dir.resolve("x.npy"), x);
        CliRun r = CliRun.of("eval", "--anchor", p.toString(), "--inputs", p.toString());
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals("{\"anchor_to_candidate\":{\"R@1\":100.0,\"R@5\":100.0,\"R@10\":100.0,\"MedR\":1.0,"
                + "\"MeanR\":1.0},\"candidate_to_anchor\":{\"R@1\":100.0,\"R@5\":100.0,\"R@10\":100.0,\"MedR\":1.0,"
                + "\"MeanR\":1.0}}\n", r.out());
        assertEquals("", r.err());
        // full precision: 1/3 and 2/3 come out with every digit
        DirectionMetrics third = DirectionMetrics.fromRanks(new int[] {1, 2, 9});
        String json = EvalCommand.json(new RetrievalMetrics(third, third));
        assertTrue(json.contains("\"R@1\":33.33333333333333,\"R@5\":66.66666666666666,\"R@10\":100.0,"
                + "\"MedR\":2.0,\"MeanR\":4.0"), json);
    }

    // ---------------------------------------------------------------- errors

    @FunctionalInterface
    interface Setup {
        String[] args(Path dir) throws IOException;
    }

    record ErrorCase(String name, Setup setup, String[] fragments) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static ErrorCase error(String name, Setup setup, String... fragments) {
        return new ErrorCase(name, setup, fragments);
    }

    /** anchor.npy (6 x 8), x1.npy and x2.npy (6 x 8, or {@code b2} rows), float64. */
    private static Path[] valid(Path dir, int b2) throws IOException {
        return new Path[] {
            write(dir.resolve("anchor.npy"), random(1, 6, D, DataType.DOUBLE)),
            write(dir.resolve("x1.npy"), random(2, b2, D, DataType.DOUBLE)),
            write(dir.resolve("x2.npy"), random(3, b2, D, DataType.DOUBLE)),
        };
    }

    /** {@code eval --anchor anchor.npy --inputs x1.npy,x2.npy} plus {@code extra}. */
    private static Setup options(String... extra) {
        return dir -> {
            Path[] ok = valid(dir, 6);
            return concat(args("eval", "--anchor", ok[0].toString(), "--inputs", ok[1] + "," + ok[2]), extra);
        };
    }

    /** 6 anchors, 3 candidates; the id files hold {@code anchorIds} and {@code candidateIds}. */
    private static Setup ids(String anchorIds, String candidateIds) {
        return dir -> {
            Path[] ok = valid(dir, 3);
            Path a = Files.writeString(dir.resolve("a.txt"), anchorIds, StandardCharsets.UTF_8);
            Path c = Files.writeString(dir.resolve("c.txt"), candidateIds, StandardCharsets.UTF_8);
            return args("eval", "--anchor", ok[0].toString(), "--inputs", ok[1] + "," + ok[2], "--anchor-ids",
                    a.toString(), "--candidate-ids", c.toString());
        };
    }

    /** {@code eval --anchor anchor.npy --inputs BAD}. */
    private static Setup badInput(String file, INDArray a) {
        return dir -> {
            Path[] ok = valid(dir, 6);
            return args("eval", "--anchor", ok[0].toString(), "--inputs", write(dir.resolve(file), a).toString());
        };
    }

    private static INDArray withRow(INDArray a, int row, double value) {
        INDArray b = a.dup();
        b.getRow(row).assign(value);
        return b;
    }

    static Stream<ErrorCase> errorCases() {
        String six = "a\nb\nc\na\nb\nc\n";
        return Stream.of(
                // options
                error("missing --anchor", dir -> args("eval", "--inputs", valid(dir, 6)[1].toString()),
                        "Missing required option", "--anchor"),
                error("missing --inputs", dir -> args("eval", "--anchor", valid(dir, 6)[0].toString()),
                        "Missing required option", "--inputs"),
                error("unknown score", options("--score", "dot"), "--score", "'dot'", "(see gram eval --help)"),
                error("unknown option", options("--out", "m.json"), "'--out'"),
                error("empty input name", dir -> {
                    Path[] ok = valid(dir, 6);
                    return args("eval", "--anchor", ok[0].toString(), "--inputs", ok[1] + ",," + ok[2]);
                }, "--inputs", "empty file name"),
                error("anchor ids alone", dir -> concat(options().args(dir), "--anchor-ids",
                        Files.writeString(dir.resolve("a.txt"), six).toString()),
                        "--anchor-ids given without --candidate-ids", "both id files or neither"),
                error("candidate ids alone", dir -> concat(options().args(dir), "--candidate-ids",
                        Files.writeString(dir.resolve("c.txt"), six).toString()),
                        "--candidate-ids given without --anchor-ids", "both id files or neither"),
                error("cosine with two inputs", options("--score", "cosine"), "--score cosine",
                        "exactly one --inputs file, got 2", "x1.npy,", "x2.npy"),
                // no ids: row i <-> row i
                error("different batch sizes without ids", dir -> {
                    Path[] ok = valid(dir, 4);
                    return args("eval", "--anchor", ok[0].toString(), "--inputs", ok[1].toString());
                }, "anchor.npy has 6 rows but", "x1.npy has 4", "pass --anchor-ids and --candidate-ids"),
                // id files
                error("missing id file", dir -> {
                    Path[] ok = valid(dir, 3);
                    Path c = Files.writeString(dir.resolve("c.txt"), "a\nb\nc\n");
                    return args("eval", "--anchor", ok[0].toString(), "--inputs", ok[1].toString(), "--anchor-ids",
                            dir.resolve("nope.txt").toString(), "--candidate-ids", c.toString());
                }, "--anchor-ids", "nope.txt", "no such file"),
                error("id file is a directory", dir -> {
                    Path[] ok = valid(dir, 3);
                    Path a = Files.writeString(dir.resolve("a.txt"), six);
                    return args("eval", "--anchor", ok[0].toString(), "--inputs", ok[1].toString(), "--anchor-ids",
                            a.toString(), "--candidate-ids", Files.createDirectory(dir.resolve("ids")).toString());
                }, "--candidate-ids", "ids", "is a directory"),
                error("empty id file", ids(six, ""), "--candidate-ids", "c.txt", "is empty"),
                error("blank line", ids("a\nb\n\na\nb\nc\n", "a\nb\nc\n"), "a.txt line 3", "blank line"),
                error("whitespace-only line", ids(six, "a\n \t\nc\n"), "c.txt line 2", "blank line"),
                error("blank line before the last id", ids(six, "a\nb\n\nc\n\n"), "c.txt line 3", "blank line"),
                error("only blank lines", ids(six, "\n \n\n"), "--candidate-ids", "c.txt", "no ids"),
                error("invalid UTF-8", dir -> {
                    String[] args = ids(six, "a\nb\nc\n").args(dir);
                    Files.write(dir.resolve("a.txt"), new byte[] {'a', '\n', 'b', '\n', (byte) 0xC3, '(', '\n'});
                    return args;
                }, "a.txt line 3", "not valid UTF-8"),
                error("too few anchor ids", ids("a\nb\nc\na\nb", "a\nb\nc"), "--anchor-ids", "a.txt", "has 5 ids",
                        "anchor.npy has 6 rows"),
                error("too many candidate ids", ids(six, "a\nb\nc\nd\n"), "--candidate-ids", "c.txt", "has 4 ids",
                        "x1.npy has 3 rows"),
                error("anchor id without candidate", ids("a\nb\nc\na\nB\nc\n", "a\nb\nc\n"), "a.txt line 5", "'B'",
                        "occurs nowhere in", "c.txt"),
                error("candidate id without anchor", ids("a\nb\nb\na\nb\na\n", "a\nb\nc\n"), "c.txt line 3", "'c'",
                        "occurs nowhere in", "a.txt"),
                error("id with trailing space differs", ids("a \nb\nc\na\nb\nc\n", "a\nb\nc\n"), "a.txt line 1",
                        "'a '"),
                // embeddings
                error("missing npy", dir -> args("eval", "--anchor", valid(dir, 6)[0].toString(), "--inputs",
                        dir.resolve("nope.npy").toString()), "nope.npy", "no such file"),
                error("1-D npy", dir -> {
                    Path[] ok = valid(dir, 6);
                    Path v = writeRaw(dir.resolve("vector.npy"), "<f8", false, "(8,)",
                            floats(new double[8], 8, ByteOrder.LITTLE_ENDIAN));
                    return args("eval", "--anchor", ok[0].toString(), "--inputs", v.toString());
                }, "vector.npy", "must be a 2-D array"),
                error("dim mismatch", badInput("d5.npy", random(4, 6, 5, DataType.DOUBLE)), "d5.npy", "has dim 5"),
                error("batch mismatch", dir -> {
                    Path[] ok = valid(dir, 6);
                    Path b = write(dir.resolve("b4.npy"), random(4, 4, D, DataType.DOUBLE));
                    return args("eval", "--anchor", ok[0].toString(), "--inputs", ok[1] + "," + b);
                }, "b4.npy", "has 4 rows but", "x1.npy"),
                error("NaN", badInput("nan.npy", withRow(random(4, 6, D, DataType.DOUBLE), 2, Double.NaN)), "nan.npy",
                        "NaN or infinite"),
                error("zero anchor row for cosine", dir -> {
                    Path[] ok = valid(dir, 6);
                    Path z = write(dir.resolve("zero.npy"), withRow(random(5, 6, D, DataType.DOUBLE), 4, 0.0));
                    return args("eval", "--anchor", z.toString(), "--inputs", ok[1].toString(), "--score", "cosine");
                }, "zero.npy", "row 4 has norm 0", "--score cosine"),
                error("zero input row for cosine", dir -> {
                    Path[] ok = valid(dir, 6);
                    Path z = write(dir.resolve("zero.npy"), withRow(random(5, 6, D, DataType.DOUBLE), 0, 0.0));
                    return args("eval", "--anchor", ok[0].toString(), "--inputs", z.toString(), "--score", "cosine");
                }, "zero.npy", "row 0 has norm 0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errorCases")
    void badInputExitsTwoWithOneErrorLineAndNothingOnStdout(ErrorCase c) throws IOException {
        CliRun.of(c.setup().args(dir)).assertOneErrorLine(2, c.fragments());
    }

    @Test
    void zeroRowsAreFineForVolumes() throws IOException {
        // a zero vector has volume 0 with everything: a valid (if useless) score
        List<INDArray> arrays = embeddings(2, 6, 6, identity(6), DataType.DOUBLE, 29);
        arrays.set(1, withRow(arrays.get(1), 2, 0.0));
        List<Path> paths = writeAll(dir, arrays);
        JsonNode root = evalOk("--anchor", paths.get(0).toString(), "--inputs", paths.get(1).toString());
        assertJsonEquals(RetrievalMetrics.compute(volumes(arrays), ScoreOrder.LOWER_IS_BETTER), root);
    }

    @Test
    void unreadableIdFile() throws IOException {
        // unreadable for root too (see VolumeCommandTest.WRITE_ONLY)
        Assumptions.assumeTrue(Files.exists(VolumeCommandTest.WRITE_ONLY), "needs Linux's /proc/sys");
        String[] args = ids("a\nb\nc\na\nb\nc\n", "a\nb\nc\n").args(dir);
        args[args.length - 3] = VolumeCommandTest.WRITE_ONLY.toString(); // --anchor-ids
        CliRun.of(args).assertOneErrorLine(2, "--anchor-ids", VolumeCommandTest.WRITE_ONLY.toString(),
                "permission denied");
    }

    @Test
    void helpDescribesTheOptions() {
        CliRun r = CliRun.of("eval", "--help");
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals("", r.err(), r::describe);
        for (String option : new String[] {"--anchor", "--inputs", "--anchor-ids", "--candidate-ids", "--score"}) {
            assertTrue(r.out().contains(option), () -> option + " missing; " + r.describe());
        }
        assertTrue(CliRun.of("--help").out().matches("(?s).*\\n\\s+eval\\s+Retrieval metrics.*"));
    }
}

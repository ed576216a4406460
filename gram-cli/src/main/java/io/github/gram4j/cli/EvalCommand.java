package io.github.gram4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.VolumeMethod;
import io.github.gram4j.metrics.DirectionMetrics;
import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.metrics.ScoreOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gram eval}: retrieval metrics of an anchor batch against candidate batches, as GRAM
 * evaluates retrieval ({@link RetrievalMetrics}), printed as one JSON object on stdout:
 *
 * <pre>{"anchor_to_candidate": {"R@1": …, "R@5": …, "R@10": …, "MedR": …, "MeanR": …},
 *  "candidate_to_anchor": {…}}</pre>
 *
 * <p>Scores: {@code --score volume} (default) is the pairwise GRAM volume of the anchor with the
 * candidate batches (FAST method; lower is better); {@code --score cosine} is the cosine similarity
 * of the anchor with exactly one candidate batch (higher is better). Float32 files are scored in
 * float32, as GRAM does; files of mixed dtypes are refused unless {@code --dtype} names the one to
 * score in (the rule of every command, see {@link EmbeddingFiles}).
 *
 * <p>Positives: without id files, anchor row {@code i} pairs with candidate row {@code i} (the
 * batch sizes must be equal). With {@code --anchor-ids} and {@code --candidate-ids} (both or
 * neither), each a UTF-8 text file with one id per line and one line per row, rows with equal ids
 * (compared exactly) are positive pairs; several anchors may share an id (captions of one video).
 *
 * <p>Bad input gives one {@code error:} line naming the file or option, exit code 2, and nothing on
 * stdout.
 */
@Command(name = "eval",
        sortOptions = false,
        headerHeading = "%n",
        header = "Retrieval metrics (R@1/5/10, median and mean rank) of .npy embedding batches.",
        description = "Scores the anchor batch A (B1 x d) against the candidate batches X1..XK (B2 x d each) and"
                + " prints one JSON object on stdout: {\"anchor_to_candidate\": {\"R@1\": ..., \"R@5\": ...,"
                + " \"R@10\": ..., \"MedR\": ..., \"MeanR\": ...}, \"candidate_to_anchor\": {...}}, as GRAM's"
                + " compute_metric_ret_area / compute_metric_ret. R@k is in percent (0-100, not rounded); MedR is"
                + " the lower median rank; ranks are 1-based. Anchor-to-candidate ranks, for each anchor, the"
                + " first candidate row with its id; candidate-to-anchor takes, for each candidate, the best rank"
                + " over the anchors with its id. Ties: an entry with an equal score and a smaller row index ranks"
                + " first.",
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n")
public final class EvalCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_ID_IN_MESSAGE = 60;

    @Spec
    CommandSpec spec;

    /** --anchor (the queries of anchor-to-candidate retrieval), --inputs (exactly one with --score cosine; not with --index), --dtype. */
    @Mixin
    EmbeddingOptions files;

    @Option(names = "--index", paramLabel = "DIR",
            description = "Instead of --inputs: a GRAM index (gram index build) as the candidates, streamed chunk by"
                    + " chunk; candidate ids are the index's ids (see IndexEval).")
    Path index;

    @Option(names = "--anchor-ids", paramLabel = "a.txt",
            description = "UTF-8 text, one id per line, one line per anchor row. Give with --candidate-ids.")
    Path anchorIds;

    @Option(names = "--candidate-ids", paramLabel = "c.txt",
            description = "UTF-8 text, one id per line, one line per candidate row. Without the two id files,"
                    + " anchor row i pairs with candidate row i (B1 must equal B2).")
    Path candidateIds;

    @Option(names = "--score", defaultValue = "volume", converter = ScoreConverter.class, paramLabel = "SCORE",
            description = "volume (default): GRAM volume of (A_i, X1_j, ..., XK_j), lower is better."
                    + " cosine: cosine similarity of A_i and X1_j, higher is better."
                    + " triangle: TRIANGLE's score (|u|^2|w|^2 - (u.w)^2)/2 of the triangle (A_i, X1_j, X2_j),"
                    + " triangle-area: its area sqrt(...)/2; both need exactly two --inputs, lower is better.")
    Score score;

    /** The score matrix to rank by. */
    enum Score {
        VOLUME("volume", ScoreOrder.LOWER_IS_BETTER),
        COSINE("cosine", ScoreOrder.HIGHER_IS_BETTER),
        TRIANGLE("triangle", ScoreOrder.LOWER_IS_BETTER),
        TRIANGLE_AREA("triangle-area", ScoreOrder.LOWER_IS_BETTER);

        final String cliName;
        final ScoreOrder order;

        Score(String cliName, ScoreOrder order) {
            this.cliName = cliName;
            this.order = order;
        }

        boolean isTriangle() {
            return this == TRIANGLE || this == TRIANGLE_AREA;
        }

        @Override
        public String toString() {
            return cliName;
        }
    }

    /** {@code volume} | {@code cosine} | {@code triangle} | {@code triangle-area}, any case. */
    static final class ScoreConverter implements ITypeConverter<Score> {
        @Override
        public Score convert(String value) {
            for (Score s : Score.values()) {
                if (s.cliName.equalsIgnoreCase(value.strip())) {
                    return s;
                }
            }
            throw new TypeConversionException("expected volume, cosine, triangle or triangle-area, got '" + value + "'");
        }
    }

    @Override
    public Integer call() throws IOException {
        if (index != null) {
            return IndexEval.run(this);
        }
        checkOptions();

        EmbeddingFiles.Headers headers = files.headers();
        MemoryCheck.require(estimate(headers), "the " + headers.anchorRows() + " x " + headers.candidateRows() + " "
                + EmbeddingFiles.npyName(headers.dataType()) + " score matrix");
        EmbeddingFiles read = EmbeddingFiles.read(headers);
        String anchorName = read.anchorName();
        List<String> names = read.names();
        ModalityBatches batches;
        try {
            batches = ModalityBatches.named(anchorName, read.anchor(), names, read.candidates());
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e); // names the files
        }
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();

        long[][] ids = anchorIds == null ? identityIds(b1, b2, anchorName, names.get(0))
                : fileIds(b1, b2, anchorName, names.get(0));

        INDArray scores;
        try {
            scores = switch (score) {
                case VOLUME -> GramVolumes.pairwise(VolumeMethod.FAST, batches);
                case COSINE -> cosine(batches, anchorName, names.get(0));
                case TRIANGLE -> ContrastiveScore.TRIANGLE.pairwise(batches);
                case TRIANGLE_AREA -> ContrastiveScore.TRIANGLE_AREA.pairwise(batches);
            };
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        }
        RetrievalMetrics metrics;
        try {
            metrics = RetrievalMetrics.compute(scores, score.order, ids[0], ids[1]);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(json(metrics));
        out.flush();
        return 0;
    }

    /** A lower bound of the bytes scoring needs: the inputs, the score matrix and, for cosine, normalised copies. */
    private long estimate(EmbeddingFiles.Headers h) {
        double pairs = (double) h.anchorRows() * h.candidateRows();
        return MemoryCheck.bytes(h.elements() * (score == Score.COSINE ? 2 : 1) + pairs, h.itemSize());
    }

    private void checkOptions() {
        List<Path> inputs = files.inputs();
        files.anchor();
        if ((anchorIds == null) != (candidateIds == null)) {
            throw new ParameterException(spec.commandLine(), (anchorIds == null ? "--candidate-ids" : "--anchor-ids")
                    + " given without " + (anchorIds == null ? "--anchor-ids" : "--candidate-ids")
                    + "; give both id files or neither");
        }
        if (anchorIds != null && anchorIds.toString().isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--anchor-ids: empty file name");
        }
        if (candidateIds != null && candidateIds.toString().isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--candidate-ids: empty file name");
        }
        ScoreOption.checkModalities(spec.commandLine(), score.cliName, score.isTriangle(), inputs);
        if (score == Score.COSINE && inputs.size() != 1) {
            throw new ParameterException(spec.commandLine(), "--score cosine compares the anchor with exactly one"
                    + " --inputs file, got " + inputs.size() + " ("
                    + String.join(",", inputs.stream().map(Path::toString).toList())
                    + "); use --score volume for k > 2 modalities");
        }
    }

    /** Row {@code i} ↔ row {@code i}. */
    private static long[][] identityIds(long b1, long b2, String anchorName, String firstInput) {
        if (b1 != b2) {
            throw new BadInputException("the anchor " + anchorName + " has " + b1 + " rows but " + firstInput + " has "
                    + b2 + ": without id files anchor row i pairs with candidate row i, which needs equal row"
                    + " counts; pass --anchor-ids and --candidate-ids");
        }
        long[] ids = new long[(int) b1];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        return new long[][] {ids, ids};
    }

    /** Reads both id files, checks them against the row counts and each other, and numbers the ids. */
    private long[][] fileIds(long b1, long b2, String anchorName, String firstInput) {
        String aName = anchorIds.toString();
        String cName = candidateIds.toString();
        List<String> aIds = readIds(anchorIds, "--anchor-ids");
        List<String> cIds = readIds(candidateIds, "--candidate-ids");
        if (aIds.size() != b1) {
            throw new BadInputException("--anchor-ids " + aName + " has " + aIds.size() + " ids (lines) but the anchor "
                    + anchorName + " has " + b1 + " rows; need one id per line, one line per row");
        }
        if (cIds.size() != b2) {
            throw new BadInputException("--candidate-ids " + cName + " has " + cIds.size() + " ids (lines) but "
                    + firstInput + " has " + b2 + " rows; need one id per line, one line per row");
        }
        Map<String, Long> number = new HashMap<>();
        long[] c = new long[cIds.size()];
        for (int j = 0; j < c.length; j++) {
            Long n = number.get(cIds.get(j));
            if (n == null) {
                n = (long) number.size();
                number.put(cIds.get(j), n);
            }
            c[j] = n;
        }
        long[] a = new long[aIds.size()];
        Set<String> anchored = new HashSet<>();
        for (int i = 0; i < a.length; i++) {
            Long n = number.get(aIds.get(i));
            if (n == null) {
                throw new BadInputException(aName + " line " + (i + 1) + ": id " + quote(aIds.get(i))
                        + " occurs nowhere in " + cName + "; every anchor needs a candidate with its id");
            }
            a[i] = n;
            anchored.add(aIds.get(i));
        }
        for (int j = 0; j < c.length; j++) {
            if (!anchored.contains(cIds.get(j))) {
                throw new BadInputException(cName + " line " + (j + 1) + ": id " + quote(cIds.get(j))
                        + " occurs nowhere in " + aName
                        + "; every candidate needs an anchor with its id (for candidate-to-anchor retrieval)");
            }
        }
        return new long[][] {a, c};
    }

    /**
     * The ids of a UTF-8 text file: one per line ({@code \n} or {@code \r\n}), the last newline
     * optional, a leading byte-order mark ignored. Ids are kept exactly as written (spaces
     * included); blank (empty or all-whitespace) lines at the end are ignored, a blank line before
     * the last id is an error.
     */
    static List<String> readIds(Path file, String option) {
        String name = file.toString();
        if (!Files.exists(file)) {
            throw new BadInputException(option + " " + name + ": no such file");
        }
        if (Files.isDirectory(file)) {
            throw new BadInputException(option + " " + name + ": is a directory, not a text file of ids");
        }
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(option + " " + name + ": is not a regular file");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (AccessDeniedException e) {
            throw new BadInputException(option + " " + name + ": cannot be read (permission denied)", e);
        } catch (IOException e) {
            throw new BadInputException(option + " " + name + ": cannot be read: " + e.getMessage(), e);
        }
        String text = decodeUtf8(bytes, name);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        if (text.isEmpty()) {
            throw new BadInputException(option + " " + name + ": is empty; need one id per line, one line per row");
        }
        String[] lines = text.split("\r?\n", -1);
        int n = lines.length;
        while (n > 0 && lines[n - 1].isBlank()) {
            n--; // the final newline, and blank lines after the last id
        }
        if (n == 0) {
            throw new BadInputException(option + " " + name + ": has no ids, only blank lines; need one id per line,"
                    + " one line per row");
        }
        List<String> ids = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            if (lines[k].isBlank()) {
                throw new BadInputException(name + " line " + (k + 1) + ": blank line; " + option
                        + " needs one id on every line");
            }
            ids.add(lines[k]);
        }
        return ids;
    }

    private static String decodeUtf8(byte[] bytes, String name) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            int line = 1;
            for (int q = 0; q < in.position(); q++) {
                line += bytes[q] == '\n' ? 1 : 0;
            }
            throw new BadInputException(name + " line " + line + ": not valid UTF-8 text (byte offset "
                    + in.position() + ")");
        }
        out.flip();
        return out.toString();
    }

    /** Cosine similarities of the L2-normalised rows: {@code B1 × B2}. */
    private static INDArray cosine(ModalityBatches batches, String anchorName, String inputName) {
        INDArray a = normalizedRows(batches.anchor(), anchorName);
        INDArray x = normalizedRows(batches.candidate(0), inputName);
        return a.mmul(x.transpose());
    }

    private static INDArray normalizedRows(INDArray x, String name) {
        INDArray norms = x.norm2(1);
        double[] v = norms.toDoubleVector();
        for (int r = 0; r < v.length; r++) {
            if (!(v[r] > 0)) {
                throw new BadInputException(name + ": row " + r + " has norm 0 (in " + (x.dataType() == DataType.FLOAT
                        ? "float32" : "float64") + "); --score cosine is undefined for a zero vector");
            }
        }
        return x.divColumnVector(norms.reshape(v.length, 1));
    }

    private static String quote(String id) {
        String shown = id.length() <= MAX_ID_IN_MESSAGE ? id : id.substring(0, MAX_ID_IN_MESSAGE - 3) + "...";
        return "'" + shown + "'";
    }

    /** The metrics as one line of JSON, doubles in full precision (shortest round-trip form). */
    static String json(RetrievalMetrics m) {
        ObjectNode root = JSON.createObjectNode();
        root.set("anchor_to_candidate", direction(m.anchorToCandidate()));
        root.set("candidate_to_anchor", direction(m.candidateToAnchor()));
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the metrics as JSON", e);
        }
    }

    private static ObjectNode direction(DirectionMetrics d) {
        ObjectNode o = JSON.createObjectNode();
        o.put("R@1", d.recallAt1());
        o.put("R@5", d.recallAt5());
        o.put("R@10", d.recallAt10());
        o.put("MedR", d.medianRank());
        o.put("MeanR", d.meanRank());
        return o;
    }
}

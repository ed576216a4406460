package io.github.gram4j.cli;

import static io.github.gram4j.cli.NpyTestFiles.joined;
import static io.github.gram4j.cli.NpyTestFiles.random;
import static io.github.gram4j.cli.NpyTestFiles.write;
import static io.github.gram4j.cli.NpyTestFiles.writeAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.TriangleScores;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** {@code --score triangle|triangle-area} of {@code gram volume}, {@code gram eval} and {@code gram loss}. */
class TriangleScoreOptionTest {

    @TempDir
    Path dir;

    private List<Path> files(int inputs, DataType type) throws IOException {
        List<INDArray> arrays = new java.util.ArrayList<>();
        arrays.add(random(7, 5, 6, type));
        for (int m = 1; m <= inputs; m++) {
            arrays.add(random(7 + m, 5, 6, type));
        }
        return writeAll(dir, arrays);
    }

    private static INDArray read(Path p) {
        return Nd4j.createFromNpyFile(p.toFile());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"triangle", "triangle-area"})
    void volumeWritesTheTriangleScoreMatrix(String score) throws IOException {
        List<Path> f = files(2, DataType.FLOAT);
        Path out = dir.resolve("S.npy");
        CliRun.of("volume", "--anchor", f.get(0).toString(), "--inputs", joined(f.subList(1, 3)), "--score", score,
                "--out", out.toString()).assertSilentSuccess();
        INDArray t = read(f.get(0));
        INDArray expected = score.equals("triangle") ? TriangleScores.pairwise(t, read(f.get(1)), read(f.get(2)))
                : TriangleScores.areas(t, read(f.get(1)), read(f.get(2)));
        INDArray actual = read(out);
        assertEquals(DataType.FLOAT, actual.dataType());
        assertArrayEquals(expected.dup('c').data().asDouble(), actual.dup('c').data().asDouble(), 0.0);
    }

    @ParameterizedTest(name = "{0} {1} inputs")
    @ValueSource(ints = {1, 3})
    void everyCommandRefusesAnotherModalityCount(int inputs) throws IOException {
        List<Path> f = files(inputs, DataType.DOUBLE);
        String in = joined(f.subList(1, f.size()));
        String count = "got " + (inputs + 1);
        Path out = dir.resolve("S.npy");
        CliRun.of("volume", "--anchor", f.get(0).toString(), "--inputs", in, "--score", "triangle", "--out",
                out.toString()).assertOneErrorLine(2, "--score triangle", "exactly 3 modalities", count);
        assertFalse(Files.exists(out));
        CliRun.of("eval", "--anchor", f.get(0).toString(), "--inputs", in, "--score", "triangle-area")
                .assertOneErrorLine(2, "--score triangle-area", "exactly 3 modalities", count);
        Path outDir = dir.resolve("grads");
        CliRun.of("loss", "--anchor", f.get(0).toString(), "--inputs", in, "--score", "triangle", "--out-dir",
                outDir.toString()).assertOneErrorLine(2, "exactly 3 modalities", count);
        assertFalse(Files.exists(outDir));
    }

    @Test
    void unknownScoresAndTheReferenceMethodAreRefused() throws IOException {
        List<Path> f = files(2, DataType.DOUBLE);
        String in = joined(f.subList(1, 3));
        CliRun.of("volume", "--anchor", f.get(0).toString(), "--inputs", in, "--score", "area", "--out",
                dir.resolve("S.npy").toString()).assertOneErrorLine(2, "triangle-area", "'area'");
        CliRun.of("volume", "--anchor", f.get(0).toString(), "--inputs", in, "--score", "triangle", "--method",
                "reference", "--out", dir.resolve("S.npy").toString()).assertOneErrorLine(2, "--method reference");
        CliRun.of("eval", "--anchor", f.get(0).toString(), "--inputs", in, "--score", "tri")
                .assertOneErrorLine(2, "triangle-area");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"triangle", "triangle-area"})
    void evalRanksAlignedTriplesFirst(String score) throws IOException {
        // candidates that are small perturbations of the anchor rows: every positive triangle is tiny
        INDArray anchor = random(3, 12, 8, DataType.DOUBLE);
        Path a = write(dir.resolve("a.npy"), anchor);
        Path v = write(dir.resolve("v.npy"), anchor.add(random(4, 12, 8, DataType.DOUBLE).muli(0.01)));
        Path w = write(dir.resolve("w.npy"), anchor.add(random(5, 12, 8, DataType.DOUBLE).muli(0.01)));
        CliRun r = CliRun.of("eval", "--anchor", a.toString(), "--inputs", v + "," + w, "--score", score);
        assertEquals(0, r.exitCode(), r::describe);
        JsonNode json = new ObjectMapper().readTree(r.out());
        for (String direction : List.of("anchor_to_candidate", "candidate_to_anchor")) {
            assertEquals(100.0, json.get(direction).get("R@1").asDouble(), 0.0, r.out());
            assertEquals(1.0, json.get(direction).get("MeanR").asDouble(), 0.0, r.out());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"triangle", "triangle-area"})
    void lossMatchesTheLibrary(String score) throws IOException {
        List<Path> f = files(2, DataType.DOUBLE);
        Path out = dir.resolve("grads");
        CliRun.of("loss", "--anchor", f.get(0).toString(), "--inputs", joined(f.subList(1, 3)), "--score", score,
                "--temperature", "0.1", "--out-dir", out.toString()).assertSilentSuccess();
        LossResult expected = new GramLoss(0.1, ContrastiveScore.fromCliName(score)).compute(Temperature.of(0.1),
                read(f.get(0)), read(f.get(1)), read(f.get(2)));
        JsonNode json = new ObjectMapper().readTree(Files.readString(out.resolve("loss.json")));
        assertEquals(expected.loss(), json.get("loss").asDouble(), 0.0);
        assertEquals(expected.gradTemperature(), json.get("grad_temperature").asDouble(), 0.0);
        assertArrayEquals(expected.gradAnchor().dup('c').data().asDouble(),
                read(out.resolve("grad_anchor.npy")).dup('c').data().asDouble(), 0.0);
        assertArrayEquals(expected.gradCandidates().get(1).dup('c').data().asDouble(),
                read(out.resolve("grad_input_2.npy")).dup('c').data().asDouble(), 0.0);
    }
}

package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.index.GramIndex;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** {@code gram index build|append|info}, {@code gram search} and {@code gram eval --index}. */
class IndexCommandsTest {

    @TempDir
    Path dir;

    private INDArray x1;
    private INDArray x2;
    private INDArray queries;
    private Path f1;
    private Path f2;
    private Path fq;
    private Path ids;

    @BeforeEach
    void files() throws Exception {
        x1 = NpyTestFiles.random(1, 70, 10, DataType.FLOAT);
        x2 = NpyTestFiles.random(2, 70, 10, DataType.FLOAT);
        queries = x1.add(NpyTestFiles.random(3, 70, 10, DataType.FLOAT).mul(0.8));
        f1 = NpyTestFiles.write(dir.resolve("x1.npy"), x1);
        f2 = NpyTestFiles.write(dir.resolve("x2.npy"), x2);
        fq = NpyTestFiles.write(dir.resolve("q.npy"), queries);
        ids = dir.resolve("ids.txt");
        Files.writeString(ids, IntStream.range(0, 70).mapToObj(i -> "vid" + (i / 2)).collect(Collectors.joining("\n")));
    }

    private Path build(String name, int chunk) {
        Path out = dir.resolve(name);
        CliRun r = CliRun.of("index", "build", "--inputs", f1 + "," + f2, "--ids", ids.toString(), "--out",
                out.toString(), "--chunk-size", "" + chunk);
        assertEquals(0, r.exitCode(), r::describe);
        assertTrue(r.out().contains("70 items"), r::describe);
        return out;
    }

    @Test
    void buildInfoSearchWriteTheInMemoryRanking() throws Exception {
        Path idx = build("idx", 16);
        CliRun info = CliRun.of("index", "info", "--index", idx.toString(), "--verify");
        assertEquals(0, info.exitCode(), info::describe);
        assertTrue(info.out().contains("\"items\":70") && info.out().contains("\"chunks\":5")
                && info.out().contains("\"checksums\":\"verified\""), info::describe);

        Path prefix = dir.resolve("res");
        CliRun s = CliRun.of("search", "--index", idx.toString(), "--queries", fq.toString(), "--top-k", "4", "--out",
                prefix.toString());
        assertEquals(0, s.exitCode(), s::describe);
        INDArray items = Nd4j.createFromNpyFile(dir.resolve("res.items.npy").toFile());
        INDArray volumes = Nd4j.createFromNpyFile(dir.resolve("res.volumes.npy").toFile());
        assertArrayEquals(new long[] {70, 4}, items.shape());
        assertEquals(DataType.LONG, items.dataType());
        assertEquals(DataType.FLOAT, volumes.dataType());
        INDArray full = GramVolumes.pairwise(queries, x1, x2);
        List<String> tsv = Files.readAllLines(dir.resolve("res.tsv"));
        assertEquals("query\trank\titem\tid\tvolume", tsv.get(0));
        assertEquals(1 + 70 * 4, tsv.size());
        for (int i = 0; i < 70; i++) {
            double[] row = full.getRow(i).toDoubleVector();
            Integer[] order = IntStream.range(0, 70).boxed().sorted((a, b) -> Double.compare(row[a], row[b]))
                    .toArray(Integer[]::new);
            for (int p = 0; p < 4; p++) {
                assertEquals((long) order[p], items.getLong(i, p));
                assertEquals(row[order[p]], volumes.getDouble(i, p), 1e-5 * Math.max(1, row[order[p]]));
                String[] cells = tsv.get(1 + i * 4 + p).split("\t");
                assertEquals(List.of("" + i, "" + (p + 1), "" + order[p], "vid" + order[p] / 2), List.of(cells).subList(0, 4));
            }
        }
    }

    @Test
    void evalOnTheIndexEqualsEvalOnTheInputs() throws Exception {
        Path idx = build("idx", 16);
        CliRun inMemory = CliRun.of("eval", "--anchor", fq.toString(), "--inputs", f1 + "," + f2, "--anchor-ids",
                ids.toString(), "--candidate-ids", ids.toString());
        CliRun streamed = CliRun.of("eval", "--index", idx.toString(), "--anchor", fq.toString(), "--anchor-ids",
                ids.toString());
        assertEquals(0, inMemory.exitCode(), inMemory::describe);
        assertEquals(0, streamed.exitCode(), streamed::describe);
        assertEquals(inMemory.out(), streamed.out());
        CliRun implicit = CliRun.of("eval", "--index", idx.toString(), "--anchor", fq.toString());
        assertEquals(inMemory.out(), implicit.out(), implicit::describe); // query i takes item i's id
        assertTrue(inMemory.out().contains("\"MeanR\""));
    }

    @Test
    void appendAddsChunksAndSearchSeesThem() throws Exception {
        Path idx = build("idx", 32);
        Path more = NpyTestFiles.write(dir.resolve("m1.npy"), x1.get(NDArrayIndex.interval(0, 5), NDArrayIndex.all()).dup());
        Path more2 = NpyTestFiles.write(dir.resolve("m2.npy"), x2.get(NDArrayIndex.interval(0, 5), NDArrayIndex.all()).dup());
        CliRun a = CliRun.of("index", "append", "--index", idx.toString(), "--inputs", more + "," + more2);
        assertEquals(0, a.exitCode(), a::describe);
        GramIndex index = GramIndex.open(idx);
        assertEquals(75, index.size());
        assertEquals(List.of("70", "71", "72", "73", "74"), index.ids(index.chunkCount() - 1));
    }

    @Test
    void badInputIsOneErrorLineAndNothingWritten() throws Exception {
        Path idx = build("idx", 16);
        CliRun r = CliRun.of("index", "build", "--inputs", f1 + "," + f2, "--out", idx.toString());
        r.assertOneErrorLine(2, "not empty");

        Path shortIds = dir.resolve("short.txt");
        Files.writeString(shortIds, "a\nb\n");
        r = CliRun.of("index", "build", "--inputs", f1 + "," + f2, "--ids", shortIds.toString(), "--out",
                dir.resolve("new").toString());
        r.assertOneErrorLine(2, "--ids", "2 ids", "70 rows");
        assertFalse(Files.exists(dir.resolve("new")));
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".new")), "no temporary directory left");
        }

        Path wide = NpyTestFiles.write(dir.resolve("wide.npy"), NpyTestFiles.random(4, 3, 11, DataType.FLOAT));
        r = CliRun.of("search", "--index", idx.toString(), "--queries", wide.toString(), "--out",
                dir.resolve("r").toString());
        r.assertOneErrorLine(2, "--queries", "d = 11", "d = 10");
        assertFalse(Files.exists(dir.resolve("r.items.npy")));

        r = CliRun.of("index", "append", "--index", idx.toString(), "--inputs", f1.toString());
        r.assertOneErrorLine(2, "K = 2", "1 files");

        // a flipped byte in a chunk: search refuses, naming the file, and writes nothing
        GramIndex index = GramIndex.open(idx);
        Path bases = idx.resolve(index.manifest().chunks().get(3).bases().file());
        try (RandomAccessFile f = new RandomAccessFile(bases.toFile(), "rw")) {
            f.seek(150);
            int b = f.read();
            f.seek(150);
            f.write(b ^ 1);
        }
        r = CliRun.of("search", "--index", idx.toString(), "--queries", fq.toString(), "--out",
                dir.resolve("r").toString());
        r.assertOneErrorLine(2, "--index", bases.toString(), "corrupted");
        assertFalse(Files.exists(dir.resolve("r.items.npy")));
        r = CliRun.of("index", "info", "--index", idx.toString(), "--verify");
        r.assertOneErrorLine(2, bases.toString(), "CRC32C");
        r = CliRun.of("search", "--index", dir.resolve("nope").toString(), "--queries", fq.toString(), "--out",
                dir.resolve("r").toString());
        r.assertOneErrorLine(2, "no such index directory");
        r = CliRun.of("eval", "--index", idx.toString(), "--inputs", f1.toString(), "--anchor", fq.toString());
        r.assertOneErrorLine(2, "not both");
        Files.writeString(idx.resolve("manifest.json"), "{\"format\": \"gram4j-index\"", StandardCharsets.UTF_8);
        r = CliRun.of("index", "info", "--index", idx.toString());
        r.assertOneErrorLine(2, "manifest.json", "not valid JSON");
    }

    @Test
    void corruptedIdsDirectoryInputsAndWideRowsAreUserErrors() throws Exception {
        // an ids file with a flipped byte: eval without --anchor-ids reads every id: exit 2, not 1
        Path idx = build("idx2", 16);
        GramIndex index = GramIndex.open(idx);
        Path idsFile = idx.resolve(index.manifest().chunks().get(1).ids().file());
        byte[] bytes = Files.readAllBytes(idsFile);
        bytes[0] ^= 1;
        Files.write(idsFile, bytes);
        CliRun r = CliRun.of("eval", "--index", idx.toString(), "--anchor", fq.toString());
        r.assertOneErrorLine(2, "--index", idsFile.toString(), "corrupted");

        // a directory as an input: exit 2 naming it, nothing built
        Path notAFile = Files.createDirectory(dir.resolve("d.npy"));
        r = CliRun.of("index", "build", "--inputs", f1 + "," + notAFile, "--out", dir.resolve("idx3").toString());
        r.assertOneErrorLine(2, notAFile.toString(), "directory");
        assertFalse(Files.exists(dir.resolve("idx3")));

        // wide float64 rows: the default chunk size shrinks so that a chunk's basis stays within 1 GiB
        assertEquals(65536, io.github.gram4j.index.IndexWriter.defaultChunkSize(512, DataType.FLOAT));
        assertEquals((1 << 30) / (3072 * 8), io.github.gram4j.index.IndexWriter.defaultChunkSize(3072, DataType.DOUBLE));
    }
}

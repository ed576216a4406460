package io.github.gram4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.index.GramIndex;
import io.github.gram4j.index.IndexSearch;
import io.github.gram4j.index.IndexWriter;
import io.github.gram4j.index.NpyFormat;
import io.github.gram4j.index.NpyMatrixFile;
import io.github.gram4j.index.SearchResults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The Spark job (local[2], 3 partitions) gives exactly the single-machine search's results. */
class SparkSearchTest {

    @TempDir
    Path dir;

    private static Path writeNpy(Path file, INDArray x) throws Exception {
        byte[] header = NpyFormat.header(DataType.FLOAT, x.shape());
        ByteBuffer b = ByteBuffer.allocate(header.length + (int) x.length() * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(header);
        for (float v : x.dup('c').data().asFloat()) {
            b.putFloat(v);
        }
        Files.write(file, b.array());
        return file;
    }

    @Test
    void sparkJobEqualsTheSingleMachineSearch() throws Exception {
        Nd4j.getRandom().setSeed(7);
        int n = 230;
        int d = 16;
        INDArray x1 = Nd4j.randn(DataType.FLOAT, n, d);
        INDArray x2 = Nd4j.randn(DataType.FLOAT, n, d);
        x1.getRow(150).assign(x1.getRow(20)); // a duplicate item across partitions: a tie
        x2.getRow(150).assign(x2.getRow(20));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("item-" + i);
        }
        Path idx = dir.resolve("idx");
        try (IndexWriter w = IndexWriter.create(idx, DataType.FLOAT, d, 2, 32)) {
            w.add(List.of(x1, x2), ids);
            w.commit();
        }
        INDArray queries = Nd4j.randn(DataType.FLOAT, 12, d);
        queries.getRow(3).assign(x1.getRow(20).mul(0.7).add(x2.getRow(20).mul(0.2)));
        Path q = writeNpy(dir.resolve("q.npy"), queries);

        StringWriter err = new StringWriter();
        int code = SparkSearch.run(new String[] {"--index", idx.toString(), "--queries", q.toString(), "--top-k", "6",
            "--out", dir.resolve("res").toString(), "--partitions", "3", "--master", "local[2]"}, new PrintWriter(err));
        assertEquals(0, code, err::toString);

        SearchResults expected = IndexSearch.search(GramIndex.open(idx), queries, 6);
        assertEquals(20L, expected.item(3, 0));
        assertEquals(150L, expected.item(3, 1));
        try (NpyMatrixFile vol = NpyMatrixFile.open(dir.resolve("res.volumes.npy"), "volumes")) {
            INDArray v = vol.rows(0, vol.rowCount()).dup();
            assertArrayEquals(new long[] {12, 6}, v.shape());
            for (int i = 0; i < 12; i++) {
                for (int r = 0; r < 6; r++) {
                    assertEquals(expected.volume(i, r), v.getDouble(i, r), 0.0);
                }
            }
        }
        ByteBuffer items = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("res.items.npy"))).order(ByteOrder.LITTLE_ENDIAN);
        NpyFormat.Header h = NpyFormat.read(dir.resolve("res.items.npy"));
        assertEquals(DataType.LONG, h.dataType());
        items.position((int) h.dataOffset());
        for (int e = 0; e < 12 * 6; e++) {
            assertEquals(expected.items()[e], items.getLong());
        }
        List<String> tsv = Files.readAllLines(dir.resolve("res.tsv"));
        assertEquals(1 + 12 * 6, tsv.size());
        assertTrue(tsv.get(1 + 3 * 6 + 1).startsWith("3\t2\t150\titem-150\t"), tsv.get(1 + 3 * 6 + 1));

        // bad queries: refused on the driver, before Spark starts, nothing written
        Path wide = writeNpy(dir.resolve("wide.npy"), Nd4j.randn(DataType.FLOAT, 2, d + 1));
        StringWriter err2 = new StringWriter();
        code = SparkSearch.run(new String[] {"--index", idx.toString(), "--queries", wide.toString(), "--out",
            dir.resolve("bad").toString(), "--master", "local[2]"}, new PrintWriter(err2));
        assertEquals(2, code);
        assertTrue(err2.toString().startsWith("error: ") && err2.toString().contains("d = 17"), err2.toString());
        assertEquals(1, err2.toString().lines().count(), err2.toString());
        assertFalse(Files.exists(dir.resolve("bad.items.npy")));

        // a chunk corrupted on disk is found by a task on an executor: still exit 2, one error
        // line naming the file, nothing written
        Path chunk = idx.resolve("chunk-000002.bases.npy");
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[bytes.length - 3] ^= 0x5a;
        Files.write(chunk, bytes);
        StringWriter err3 = new StringWriter();
        code = SparkSearch.run(new String[] {"--index", idx.toString(), "--queries", q.toString(), "--out",
            dir.resolve("corrupt").toString(), "--partitions", "3", "--master", "local[2]"}, new PrintWriter(err3));
        assertEquals(2, code, err3::toString);
        assertTrue(err3.toString().startsWith("error: ") && err3.toString().contains("chunk-000002.bases.npy"),
                err3.toString());
        assertEquals(1, err3.toString().lines().count(), err3.toString());
        assertFalse(Files.exists(dir.resolve("corrupt.items.npy")));
    }
}

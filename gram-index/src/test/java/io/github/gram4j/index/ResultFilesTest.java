package io.github.gram4j.index;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link ResultFiles}: an output prefix never replaces the queries or an index file, and the three
 * files are replaced as a set: a rename that fails puts the old set back, with nothing left over.
 */
class ResultFilesTest {

    @TempDir
    Path dir;

    /** Every file under {@code dir}'s {@code out} folder: name → bytes (as a string of their hash and length). */
    private Map<String, String> files(Path folder) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path p : s.toList()) {
                byte[] b = Files.readAllBytes(p);
                m.put(p.getFileName().toString(), b.length + ":" + java.util.Arrays.hashCode(b));
            }
        }
        return m;
    }

    @ParameterizedTest(name = "rename {0} fails")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6})
    void aFailedRenamePutsTheOldSetBack(int failing) throws Exception {
        GramIndex index = IndexSearchTest.build(dir.resolve("idx"), IndexSearchTest.gallery(48, 6, 2, DataType.FLOAT, 3),
                IndexSearchTest.ids(48), DataType.FLOAT, 20);
        List<INDArray> queries = List.of(Nd4j.randn(DataType.FLOAT, 4, 6));
        Path out = Files.createDirectory(dir.resolve("out"));
        Path prefix = out.resolve("results");
        ResultFiles.write(index, IndexSearch.search(index, queries.get(0), 3), prefix);
        Map<String, String> old = files(out);
        assertEquals(List.of("results.items.npy", "results.tsv", "results.volumes.npy"), new ArrayList<>(old.keySet()));

        // 6 renames: 3 old files aside, then 3 new ones in
        SearchResults other = IndexSearch.search(index, queries.get(0), 5);
        AtomicInteger moves = new AtomicInteger();
        ResultFiles.Mover mover = (from, to) -> {
            if (moves.incrementAndGet() == failing) {
                throw new IOException("Input/output error");
            }
            ResultFiles.RENAME.move(from, to);
        };
        IOException e = assertThrows(IOException.class, () -> ResultFiles.write(index, other, prefix, mover));
        assertEquals("Input/output error", e.getMessage());
        assertEquals(old, files(out), "the old set, nothing else");

        ResultFiles.write(index, other, prefix);
        Map<String, String> now = files(out);
        assertEquals(old.keySet(), now.keySet(), "the new set, nothing else");
        assertNotEquals(old, now);
    }

    @Test
    void refusesAPrefixWhoseFilesAreTheQueriesOrInsideTheIndex() throws Exception {
        Path index = Files.createDirectory(dir.resolve("idx"));
        Path queries = Files.writeString(dir.resolve("q.items.npy"), "queries");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ResultFiles.requireNotInputs(dir.resolve("q"), queries, index));
        assertTrue(e.getMessage().contains("q.items.npy") && e.getMessage().contains("is an input"), e.getMessage());

        Path link = Files.createSymbolicLink(dir.resolve("r.tsv"), queries);
        e = assertThrows(IllegalArgumentException.class, () -> ResultFiles.requireNotInputs(dir.resolve("r"), queries,
                index));
        assertTrue(e.getMessage().contains(link.toString()), e.getMessage());

        assertThrows(IllegalArgumentException.class,
                () -> ResultFiles.requireNotInputs(index.resolve("results"), queries, index));
        assertDoesNotThrow(() -> ResultFiles.requireNotInputs(dir.resolve("results"), queries, index));
    }
}

package io.github.gram4j.index;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ResultFiles#requireNotInputs}: an output prefix never replaces the queries or an index file. */
class ResultFilesTest {

    @TempDir
    Path dir;

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

package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Multi-file outputs: the set is put in place as a whole, or the directory keeps the old set. */
class OutputDirectoryTest {

    private static final Predicate<String> SET = n -> n.matches("loss\\.json|grad_[a-z_0-9]+\\.npy");

    @TempDir
    Path dir;

    private static OutputFile.Content text(String s) {
        return ch -> ch.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
    }

    /** Every file under {@code root} (relative path → contents), hidden ones included. */
    private static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                m.put(root.relativize(p).toString(), Files.readString(p));
            }
        }
        return m;
    }

    private Path oldRun() throws IOException {
        Path out = Files.createDirectory(dir.resolve("out"));
        Files.writeString(out.resolve("loss.json"), "old loss");
        Files.writeString(out.resolve("grad_anchor.npy"), "old anchor");
        Files.writeString(out.resolve("grad_gathered_anchor.npy"), "old gathered");
        Files.writeString(out.resolve("notes.txt"), "the user's");
        return out;
    }

    @Test
    void aNewDirectoryAndItsParentsAppearWithTheWholeSet() throws IOException {
        Path out = dir.resolve("a/b/out");
        try (OutputDirectory d = OutputDirectory.reserve(out, "--out-dir", SET, 0, List.of())) {
            d.write("loss.json", text("L"));
            d.write("grad_anchor.npy", text("G"));
            assertFalse(Files.exists(out), "nothing visible before the commit");
            d.commit();
        }
        assertEquals(Map.of("loss.json", "L", "grad_anchor.npy", "G"), tree(out));
        assertEquals(List.of("out"), Files.list(dir.resolve("a/b")).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void anExistingDirectoryGetsTheNewSetStaleFilesOfTheSetGoOthersStay() throws IOException {
        Path out = oldRun();
        try (OutputDirectory d = OutputDirectory.reserve(out, "--out-dir", SET, 0, List.of())) {
            d.write("loss.json", text("new loss"));
            d.write("grad_anchor.npy", text("new anchor"));
            d.commit();
        }
        assertEquals(Map.of("loss.json", "new loss", "grad_anchor.npy", "new anchor", "notes.txt", "the user's"),
                tree(out));
        assertEquals(List.of("out"), Files.list(dir).map(p -> p.getFileName().toString()).toList(), "no staging left");
    }

    @Test
    void aFailedWriteLeavesTheOldSetUntouched() throws IOException {
        Path out = oldRun();
        Map<String, String> before = tree(out);
        try (OutputDirectory d = OutputDirectory.reserve(out, "--out-dir", SET, 0, List.of())) {
            d.write("loss.json", text("new loss"));
            BadInputException e = assertThrows(BadInputException.class, () -> d.write("grad_anchor.npy", ch -> {
                throw new IOException("No space left on device");
            }));
            assertEquals("--out-dir " + out + ": cannot write " + out.resolve("grad_anchor.npy")
                    + ": No space left on device", e.getMessage());
        }
        assertEquals(before, tree(out));
        assertEquals(List.of("out"), Files.list(dir).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void aMoveThatFailsDuringTheCommitIsUndone() throws IOException {
        Path out = oldRun();
        Map<String, String> before = tree(out);
        AtomicInteger moves = new AtomicInteger();
        // the 5th move is the second new file going in: 3 old files went aside, 1 new one went in
        OutputDirectory.Mover failing = (from, to) -> {
            if (moves.incrementAndGet() == 5) {
                throw new IOException("Input/output error");
            }
            OutputDirectory.ATOMIC_RENAME.move(from, to);
        };
        try (OutputDirectory d = OutputDirectory.reserve(out, "--out-dir", SET, 0, List.of())) {
            d.write("loss.json", text("new loss"));
            d.write("grad_anchor.npy", text("new anchor"));
            d.write("grad_input_1.npy", text("new input"));
            BadInputException e = assertThrows(BadInputException.class, () -> d.commit(failing));
            assertTrue(e.getMessage().startsWith("--out-dir " + out + ": cannot put the output files in place"),
                    e.getMessage());
        }
        assertEquals(5, moves.get());
        assertEquals(before, tree(out), "the old set again, nothing of the new one");
        assertEquals(List.of("out"), Files.list(dir).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void refusesAFileAsDirectoryAndAnInputItWouldReplace() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertTrue(assertThrows(BadInputException.class, () -> OutputDirectory.reserve(file, "--out-dir", SET, 0,
                List.of())).getMessage().contains("exists and is not a directory"));
        Path out = oldRun();
        Path input = out.resolve("grad_anchor.npy");
        BadInputException e = assertThrows(BadInputException.class, () -> OutputDirectory.reserve(out, "--out-dir", SET,
                0, List.of(dir.resolve("out/../out/grad_anchor.npy"))));
        assertTrue(e.getMessage().contains("holds the input") && e.getMessage().contains("grad_anchor.npy"),
                e.getMessage());
        assertEquals("old anchor", Files.readString(input));
        // an input in the directory under another name is fine
        try (OutputDirectory d = OutputDirectory.reserve(out, "--out-dir", SET, 0, List.of(out.resolve("notes.txt")))) {
            assertEquals(out, d.directory());
        }
    }

    @Test
    void refusesASymbolicLinkToAFileOfTheSet() throws IOException {
        Path out = oldRun();
        // the input is a link elsewhere, under another name, to a file the new set would replace
        Path link = Files.createSymbolicLink(dir.resolve("embeddings.npy"), out.resolve("grad_anchor.npy"));
        BadInputException e = assertThrows(BadInputException.class, () -> OutputDirectory.reserve(out, "--out-dir", SET,
                0, List.of(link)));
        assertTrue(e.getMessage().contains("holds the input " + link) && e.getMessage().contains("grad_anchor.npy"),
                e.getMessage());
        assertEquals("old anchor", Files.readString(out.resolve("grad_anchor.npy")));
        assertEquals(5, tree(dir).size(), "nothing staged: " + tree(dir));
        // a link to a file of the directory outside the set is fine
        Path notes = Files.createSymbolicLink(dir.resolve("notes-link.txt"), out.resolve("notes.txt"));
        try (OutputDirectory d = OutputDirectory.reserve(out, "--out-dir", SET, 0, List.of(notes))) {
            assertEquals(out, d.directory());
        }
    }
}

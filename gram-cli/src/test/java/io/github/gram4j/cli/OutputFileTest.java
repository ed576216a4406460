package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's one output writer: reservation checks, atomic write, permissions, stale clean-up. */
class OutputFileTest {

    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesAtomicallyAndRemovesItsTemporaryFile() throws IOException {
        Path target = dir.resolve("out.txt");
        try (OutputFile out = OutputFile.reserve(target, "--out", 5, List.of())) {
            List<String> during = names();
            assertEquals(1, during.size(), during.toString());
            assertTrue(TempFiles.pattern("out.txt").matcher(during.get(0)).matches(), during.toString());
            out.writeText("hello");
        }
        assertEquals("hello", Files.readString(target));
        assertEquals(List.of("out.txt"), names());
    }

    @Test
    void aReplacedFileKeepsItsPermissionsANewOneGetsTheDefault() throws IOException {
        Path kept = Files.writeString(dir.resolve("kept.txt"), "old");
        Files.setPosixFilePermissions(kept, PosixFilePermissions.fromString("rw-------"));
        try (OutputFile out = OutputFile.reserve(kept, "--out", 0, List.of())) {
            out.writeText("new");
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(kept)));
        Path fresh = dir.resolve("fresh.txt");
        Path reference = Files.createFile(dir.resolve("reference"));
        try (OutputFile out = OutputFile.reserve(fresh, "--out", 0, List.of())) {
            out.writeText("new");
        }
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(fresh),
                "a new output has the permissions of any new file (umask)");
    }

    @Test
    void aWriteErrorNamesThePathAndLeavesTheTargetAndNoTemporaryFile() throws IOException {
        Path target = Files.writeString(dir.resolve("V.npy"), "old");
        BadInputException e;
        try (OutputFile out = OutputFile.reserve(target, "--out", 0, List.of())) {
            e = assertThrows(BadInputException.class, () -> out.write(ch -> {
                throw new IOException("No space left on device");
            }));
        }
        assertEquals("--out " + target + ": cannot write: No space left on device", e.getMessage());
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("V.npy"), names());
    }

    @Test
    void tooLittleFreeSpaceIsRefusedAtTheReservation() throws IOException {
        Path target = dir.resolve("V.npy");
        BadInputException e = assertThrows(BadInputException.class,
                () -> OutputFile.reserve(target, "--out", Long.MAX_VALUE / 2, List.of()));
        assertTrue(e.getMessage().startsWith("--out " + target + ": needs 4.0 EiB but the file system of " + dir + " has "),
                e.getMessage());
        assertEquals(List.of(), names());
    }

    @Test
    void staleTemporaryFilesOfThisOutputAreRemovedOthersKept() throws Exception {
        FileTime old = FileTime.from(Instant.now().minusSeconds(3600));
        Path killed = Files.writeString(dir.resolve(".V.npy.1f2e3d4c5b6a7980.tmp"), "left by a killed run");
        Path young = Files.writeString(dir.resolve(".V.npy.abc.tmp"), "a run that just started");
        Path otherOutput = Files.writeString(dir.resolve(".W.npy.abc.tmp"), "another output's");
        Path notOurs = Files.writeString(dir.resolve(".V.npy.backup.tmp"), "the user's");
        Path dirLike = Files.createDirectory(dir.resolve(".V.npy.123.tmp"));
        Path link = Files.createSymbolicLink(dir.resolve(".V.npy.456.tmp"), otherOutput);
        Path locked = Files.writeString(dir.resolve(".V.npy.789.tmp"), "a live run's");
        Path lockedByKilled = Files.writeString(dir.resolve(".V.npy.78a.tmp"), "a run killed with its lock");
        for (Path p : List.of(killed, otherOutput, notOurs, dirLike, locked, lockedByKilled)) {
            Files.setLastModifiedTime(p, old);
        }
        Process live = LockHolder.lock(locked);
        Process victim = LockHolder.lock(lockedByKilled);
        try {
            victim.destroyForcibly().waitFor(); // SIGKILL: its lock goes with it
            try (OutputFile out = OutputFile.reserve(dir.resolve("V.npy"), "--out", 0, List.of())) {
                out.writeText("new");
            }
        } finally {
            live.destroyForcibly().waitFor();
        }
        assertFalse(Files.exists(killed), "stale and unlocked: removed");
        assertFalse(Files.exists(lockedByKilled), "its holder was killed: removed");
        assertFalse(Files.exists(dirLike), "a stale staging directory without a live lock: removed");
        assertTrue(Files.exists(young), "too young: kept");
        assertTrue(Files.exists(otherOutput), "another output's: kept");
        assertTrue(Files.exists(notOurs), "not our pattern: kept");
        assertTrue(Files.isSymbolicLink(link), "a symbolic link: kept");
        assertTrue(Files.exists(locked), "locked by a live process: kept");
        assertEquals("new", Files.readString(dir.resolve("V.npy")));
    }

    @Test
    void theOutputMustNotBeAnInputByAnyName() throws IOException {
        Path input = Files.writeString(dir.resolve("x.npy"), "input");
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path hard = Files.createLink(dir.resolve("hard.npy"), input);
        Path soft = Files.createSymbolicLink(dir.resolve("soft.npy"), input);
        for (Path out : List.of(input, sub.resolve("../x.npy"), hard, soft, Path.of(dir.toString(), ".", "x.npy"))) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> OutputFile.reserve(out, "--out", 0, List.of(input)));
            assertTrue(e.getMessage().contains("is the input " + input), e.getMessage());
        }
        assertEquals("input", Files.readString(input));
    }
}

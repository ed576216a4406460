package io.github.gram4j.cli;

import static io.github.gram4j.cli.NpyTestFiles.random;
import static io.github.gram4j.cli.NpyTestFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Outputs on a really full file system: a 64 KiB tmpfs mounted for the test (needs root with
 * CAP_SYS_ADMIN; skipped elsewhere). Opt-in ({@code -Preliability}).
 */
@Tag("reliability")
class FullDiskTest {

    @TempDir
    Path dir;

    private Path disk;

    @BeforeEach
    void mount() throws Exception {
        disk = Files.createDirectory(dir.resolve("disk"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", disk.toString())
                .redirectErrorStream(true).start();
        Assumptions.assumeTrue(p.waitFor() == 0, "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)");
    }

    @AfterEach
    void unmount() throws Exception {
        new ProcessBuilder("umount", disk.toString()).redirectErrorStream(true).start().waitFor();
    }

    private void fill(long freeBytes) throws IOException {
        long free = Files.getFileStore(disk).getUsableSpace();
        Files.write(disk.resolve("filler"), new byte[(int) (free - freeBytes)]);
        assertEquals(freeBytes, Files.getFileStore(disk).getUsableSpace());
    }

    private List<String> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void tooLittleSpaceForTheResultIsRefusedBeforeTheWork() throws IOException {
        Path a = write(dir.resolve("a.npy"), random(1, 40, 8, DataType.DOUBLE));
        Path x = write(dir.resolve("x.npy"), random(2, 40, 8, DataType.DOUBLE));
        fill(4096); // the 40 x 40 float64 result needs 12.5 KiB
        Path out = disk.resolve("V.npy");
        CliRun.of("volume", "--anchor", a.toString(), "--inputs", x.toString(), "--out", out.toString())
                .assertOneErrorLine(2, "--out " + out, "needs 12.5 KiB", "has 4.0 KiB free");
        assertEquals(List.of("filler"), list(disk));
    }

    @Test
    void aDiskThatFillsDuringTheWritesLeavesTheOldSet() throws IOException {
        Path a = write(dir.resolve("a.npy"), random(1, 40, 64, DataType.DOUBLE));
        Path x = write(dir.resolve("x.npy"), random(2, 40, 64, DataType.DOUBLE));
        Path out = Files.createDirectory(disk.resolve("o"));
        Files.writeString(out.resolve("loss.json"), "old");
        // the two 20 KiB gradients pass the up-front check (40 KiB) but take 48 KiB of 4 KiB pages
        fill(45056);
        CliRun.of("loss", "--anchor", a.toString(), "--inputs", x.toString(), "--out-dir", out.toString())
                .assertOneErrorLine(2, "--out-dir " + out, "No space left on device");
        assertEquals(List.of("filler", "o"), list(disk), "no staging directory left");
        assertEquals(List.of("loss.json"), list(out));
        assertEquals("old", Files.readString(out.resolve("loss.json")));
    }
}

package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real kills of a running {@code gram} (a second JVM): SIGTERM removes its temporary output at
 * once (shutdown hook); after SIGKILL the leftover is removed by a later run. Opt-in
 * ({@code -Preliability}): each case starts a JVM with ND4J.
 */
@Tag("reliability")
class KilledRunTest {

    @TempDir
    Path dir;

    /** Starts {@code gram bench} with a long run and {@code --plot dir/p.png}; returns once its temp file exists. */
    private Process startLongRun() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                GramCli.class.getName(), "bench", "--op", "volume", "--batch", "64", "--dim", "8", "--k", "2",
                "--repeats", "100000000", "--warmup", "0", "--plot", dir.resolve("p.png").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (temps().isEmpty()) {
            assertTrue(p.isAlive(), () -> "gram ended early: " + read(dir.resolve("log.txt")));
            assertTrue(System.nanoTime() < deadline, "no temporary file after 120 s");
            Thread.sleep(50);
        }
        return p;
    }

    private List<Path> temps() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> TempFiles.pattern("p.png").matcher(f.getFileName().toString()).matches()).toList();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void sigtermRemovesTheTemporaryFile() throws Exception {
        Process p = startLongRun();
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(List.of(), temps());
        assertTrue(!Files.exists(dir.resolve("p.png")));
    }

    @Test
    void afterSigkillALaterRunRemovesTheLeftover() throws Exception {
        Process p = startLongRun();
        p.destroyForcibly(); // SIGKILL: no hook runs
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        List<Path> left = temps();
        assertEquals(1, left.size(), "the killed run's temporary file is left");
        Files.setLastModifiedTime(left.get(0), FileTime.from(Instant.now().minus(TempFiles.STALE_AFTER).minusSeconds(1)));
        CliRun r = CliRun.of("bench", "--op", "volume", "--batch", "16", "--dim", "4", "--k", "2", "--repeats", "1",
                "--warmup", "0", "--json", "--plot", dir.resolve("p.png").toString());
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals(List.of(), temps());
        assertTrue(Files.exists(dir.resolve("p.png")));
    }
}

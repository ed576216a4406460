package io.github.gram4j.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A second process for the stale-file tests: locks the file given as argument the way a running
 * {@code gram} holds its temporary file, prints {@code locked}, and holds the lock until its stdin
 * closes or it is killed.
 */
final class LockHolder {

    private LockHolder() {
    }

    public static void main(String[] args) throws IOException {
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE);
                FileLock lock = ch.lock()) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait
            }
        }
    }

    /** Starts a JVM that locks {@code file}; returns once the lock is held. */
    static Process lock(Path file) throws IOException {
        String javaCommand = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(javaCommand, "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(),
                file.toString()).redirectErrorStream(true).start();
        byte[] line = new byte[7];
        int n = p.getInputStream().readNBytes(line, 0, 6);
        if (n != 6 || !new String(line, 0, 6, StandardCharsets.US_ASCII).equals("locked")) {
            p.destroyForcibly();
            throw new IOException("the lock holder did not start: " + new String(line, 0, n,
                    StandardCharsets.US_ASCII));
        }
        return p;
    }
}

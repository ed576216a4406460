package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** One in-process run of {@code gram}: exit code, stdout, stderr. */
record CliRun(String[] args, int exitCode, String out, String err) {

    static CliRun of(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = GramCli.run(args, o, e);
        }
        return new CliRun(args, code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    List<String> errLines() {
        return err.lines().toList();
    }

    /** Exit 0, nothing on stdout or stderr. */
    CliRun assertSilentSuccess() {
        assertEquals(0, exitCode, this::describe);
        assertEquals("", out, this::describe);
        assertEquals("", err, this::describe);
        return this;
    }

    /**
     * The error contract: exit {@code code}, nothing on stdout, exactly one stderr line, starting
     * with {@code error: } and containing every one of {@code fragments}.
     *
     * @return the error line
     */
    String assertOneErrorLine(int code, String... fragments) {
        assertEquals(code, exitCode, this::describe);
        assertEquals("", out, this::describe);
        List<String> lines = errLines();
        assertEquals(1, lines.size(), this::describe);
        assertTrue(err.endsWith("\n"), this::describe);
        String line = lines.get(0);
        assertTrue(line.startsWith("error: "), this::describe);
        for (String f : fragments) {
            assertTrue(line.contains(f), () -> "expected '" + f + "' in the error line; " + describe());
        }
        return line;
    }

    String describe() {
        return "gram " + String.join(" ", args) + " -> exit " + exitCode + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
    }
}

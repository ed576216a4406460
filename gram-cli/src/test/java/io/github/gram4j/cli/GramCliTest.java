package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class GramCliTest {

    @Test
    void helpListsTheCommandsOnStdout() {
        CliRun r = CliRun.of("--help");
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals("", r.err(), r::describe);
        assertTrue(r.out().contains("Usage: gram"), r::describe);
        assertTrue(r.out().matches("(?s).*\\n\\s+volume\\s+Pairwise GRAM volumes.*"), r::describe);
    }

    @Test
    void volumeHelpDescribesItsOptions() {
        CliRun r = CliRun.of("volume", "--help");
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals("", r.err(), r::describe);
        for (String option : new String[] {"--anchor", "--inputs", "--out", "--method", "--dtype"}) {
            assertTrue(r.out().contains(option), () -> option + " missing; " + r.describe());
        }
        assertEquals(r.out(), CliRun.of("help", "volume").out());
    }

    @Test
    void versionFallsBackToTheProjectVersionOutsideTheJar() {
        CliRun r = CliRun.of("--version");
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals("gram 0.1.0-SNAPSHOT\n", r.out(), r::describe);
    }

    @Test
    void noCommandIsAUsageError() {
        CliRun.of().assertOneErrorLine(2, "no command given", "volume", "(see gram --help)");
    }

    @Test
    void unknownCommandSuggestsTheNearestOne() {
        CliRun.of("volum", "--anchor", "a.npy").assertOneErrorLine(2, "'volum'", "did you mean: volume?");
    }

    @Test
    void unknownTopLevelOptionIsAUsageError() {
        CliRun.of("--frobnicate").assertOneErrorLine(2, "Unknown option: '--frobnicate'", "(see gram --help)");
    }

    @Test
    void errorMessagesAreFlattenedToOneLine() {
        assertEquals("a; b; c", GramCli.oneLine("a\nb\r\n  c\n"));
        assertEquals("(no message)", GramCli.oneLine(null));
    }

    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        private final RuntimeException toThrow;

        Boom(RuntimeException toThrow) {
            this.toThrow = toThrow;
        }

        @Override
        public Integer call() {
            throw toThrow;
        }
    }

    private static CliRun runWithBoom(RuntimeException toThrow) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintWriter o = new PrintWriter(out, true, StandardCharsets.UTF_8);
        PrintWriter e = new PrintWriter(err, true, StandardCharsets.UTF_8);
        CommandLine cl = GramCli.commandLine(o, e);
        cl.addSubcommand(new CommandLine(new Boom(toThrow)));
        cl.setOut(o); // settings reach only the subcommands present when they are made
        cl.setErr(e);
        int code = cl.execute("boom");
        o.flush();
        e.flush();
        return new CliRun(new String[] {"boom"}, code, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void internalErrorsExitOneWithOneLine() {
        runWithBoom(new IllegalStateException("it broke\nbadly")).assertOneErrorLine(1,
                "error: internal error: java.lang.IllegalStateException: it broke; badly");
    }

    @Test
    void badInputFromACommandExitsTwoWithOneLine() {
        String line = runWithBoom(new BadInputException("x.npy: something is wrong")).assertOneErrorLine(2);
        assertEquals("error: x.npy: something is wrong", line);
    }
}

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
        private final Throwable toThrow;

        Boom(Throwable toThrow) {
            this.toThrow = toThrow;
        }

        @Override
        public Integer call() throws Exception {
            if (toThrow instanceof Error e) {
                throw e;
            }
            throw (Exception) toThrow;
        }
    }

    private static CliRun runWithBoom(Throwable toThrow) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintWriter o = new PrintWriter(out, true, StandardCharsets.UTF_8);
        PrintWriter e = new PrintWriter(err, true, StandardCharsets.UTF_8);
        CommandLine cl = GramCli.commandLine(o, e);
        cl.addSubcommand(new CommandLine(new Boom(toThrow)));
        cl.setOut(o); // settings reach only the subcommands present when they are made
        cl.setErr(e);
        int code = GramCli.execute(cl, new String[] {"boom"});
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
    void outOfMemoryExitsTwoWithTheHeapHint() {
        // as JavaCPP throws it, directly and wrapped by ND4J
        OutOfMemoryError oom = new OutOfMemoryError("Cannot allocate new FloatPointer(1000000000): totalBytes = 1G,"
                + " physicalBytes = 2G");
        for (Throwable t : new Throwable[] {oom, new RuntimeException("Failed to allocate", oom)}) {
            runWithBoom(t).assertOneErrorLine(2, "error: out of memory (Cannot allocate new FloatPointer",
                    "GRAM_JAVA_OPTS=-Xmx", "smaller batches");
        }
    }

    @Test
    void aBackendThatFailsToLoadExitsTwoNamingBackendReasonAndRemedy() {
        Throwable load = new ExceptionInInitializerError(new RuntimeException("ND4J backend load failed",
                new UnsatisfiedLinkError("/root/.javacpp/cache/nd4j-cuda-11.6-linux-x86_64.jar/libjnicudart.so:"
                        + " libcuda.so.1: cannot open shared object file: No such file or directory")));
        runWithBoom(load).assertOneErrorLine(2, "error: the ND4J backend nd4j-cuda-11.6 failed to load",
                "no NVIDIA driver", "libcuda.so.1", "without -Pcuda");
    }

    @Test
    void demoHelpPrintsNoPicocliWarning() {
        java.io.PrintStream systemErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        CliRun r;
        try {
            // picocli prints its formatting warnings on System.err, not on the command line's stream
            System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
            r = CliRun.of("demo", "--help");
        } finally {
            System.setErr(systemErr);
        }
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals("", r.err(), r::describe);
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
        assertTrue(r.out().contains("Items, 20% held out"), r::describe);
    }

    @Test
    void enumOptionsAreCaseInsensitiveInEveryCommand() {
        CliRun r = CliRun.of("volume", "--method", "SLOW", "--anchor", "a.npy", "--inputs", "x.npy", "--out", "v.npy");
        r.assertOneErrorLine(2, "--method", "(case-insensitive)", "'SLOW'");
    }

    @Test
    void badInputFromACommandExitsTwoWithOneLine() {
        String line = runWithBoom(new BadInputException("x.npy: something is wrong")).assertOneErrorLine(2);
        assertEquals("error: x.npy: something is wrong", line);
    }
}

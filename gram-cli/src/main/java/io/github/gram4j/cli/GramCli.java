package io.github.gram4j.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code gram}: the top command of the CLI ({@code bin/gram}).
 *
 * <p>Subcommands are separate classes listed in {@code subcommands} below; to add one (loss, eval,
 * bench, demo, …) write a {@code @Command} class that implements {@code Callable<Integer>}, reports
 * bad input by throwing {@link BadInputException} (or picocli's {@link ParameterException}), and
 * add it to that list. Help and version options are inherited.
 *
 * <p>Contract for every command: exit 0 on success, 2 on bad input or usage (also: an output that
 * cannot be written, too little memory, an ND4J backend that fails to load), 1 on an internal
 * error; every failure prints exactly one line starting with {@code error: } on stderr (set
 * {@code GRAM_DEBUG=1} to add the stack trace after it); stdout only carries what the command is
 * asked to print. Shared options are picocli mixins ({@link EmbeddingOptions}); enum options match
 * case-insensitively; outputs go through {@link OutputFile} or {@link OutputDirectory}.
 */
@Command(name = "gram",
        scope = ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = GramCli.ManifestVersion.class,
        header = "GRAM (Gramian multimodal volumes) on .npy embeddings.",
        synopsisSubcommandLabel = "COMMAND",
        subcommands = {
            VolumeCommand.class,
            EvalCommand.class,
            IndexCommand.class,
            SearchCommand.class,
            LossCommand.class,
            BenchCommand.class,
            DemoCommand.class,
            CommandLine.HelpCommand.class,
        },
        commandListHeading = "%nCommands:%n",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:internal error",
            "2:bad input or usage (one 'error:' line on stderr)"})
public final class GramCli implements Callable<Integer> {

    /** Exit code for bad input and usage errors. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code for internal errors. */
    public static final int EXIT_INTERNAL = 1;

    private static final String FALLBACK_VERSION = "0.1.0-SNAPSHOT";

    @Spec
    CommandSpec spec;

    /** {@code gram} without a command. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "no command given; one of: " + String.join(", ", commandNames(spec)));
    }

    public static void main(String[] args) {
        configureJvm();
        System.exit(run(args, System.out, System.err));
    }

    /**
     * JVM settings of the CLI, made once at start: AWT headless (the charts need no display), and
     * JavaCPP (under ND4J) logging through SLF4J, bound to slf4j-simple at WARN, so that ND4J's and
     * JavaCPP's warnings reach stderr. A {@code -D...} in {@code GRAM_JAVA_OPTS} wins.
     */
    static void configureJvm() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
            System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
        }
    }

    /**
     * Runs the CLI in-process.
     *
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        PrintWriter outWriter = new PrintWriter(out, true);
        PrintWriter errWriter = new PrintWriter(err, true);
        try {
            return execute(commandLine(outWriter, errWriter), args);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    /**
     * Executes a configured command line, reporting also the errors picocli lets through
     * (OutOfMemoryError, a failed ND4J backend load, …) by {@link #report}.
     *
     * @return the exit code
     */
    static int execute(CommandLine cl, String[] args) {
        try {
            return cl.execute(args);
        } catch (Throwable t) {
            return report(t, cl.getErr());
        }
    }

    /** The configured command line: streams, exit codes and one-line error reporting. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new GramCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(PARAMETER_ERRORS);
        cl.setExecutionExceptionHandler(EXECUTION_ERRORS);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    private static final IParameterExceptionHandler PARAMETER_ERRORS = (ParameterException ex, String[] args) -> {
        CommandLine cl = ex.getCommandLine();
        if (!(ex instanceof UnmatchedArgumentException) && !cl.getUnmatchedArguments().isEmpty()) {
            // picocli reports a missing required option before an unknown one: with a misspelt
            // option (--anchr) the unknown one is the real problem.
            ex = new UnmatchedArgumentException(cl, cl.getUnmatchedArguments());
        }
        String message = oneLine(ex.getMessage());
        if (ex instanceof UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            message += " (did you mean: " + String.join(", ", unmatched.getSuggestions()) + "?)";
        }
        cl.getErr().println("error: " + message + " (see " + cl.getCommandSpec().qualifiedName() + " --help)");
        cl.getErr().flush();
        return EXIT_BAD_INPUT;
    };

    private static final IExecutionExceptionHandler EXECUTION_ERRORS =
            (Exception ex, CommandLine cl, ParseResult parseResult) -> {
                if (ex instanceof BadInputException) {
                    cl.getErr().println("error: " + oneLine(ex.getMessage()));
                    cl.getErr().flush();
                    return EXIT_BAD_INPUT;
                }
                return report(ex, cl.getErr());
            };

    /**
     * Reports a throwable that is not a {@link BadInputException}: running out of memory and a failed
     * ND4J backend load are the user's to fix (exit 2, with what to do); anything else is an
     * internal error (exit 1).
     */
    static int report(Throwable t, PrintWriter err) {
        int code = EXIT_BAD_INPUT;
        OutOfMemoryError oom = outOfMemory(t);
        java.util.Optional<String> backend = BackendFailure.describe(t, BackendFailure.cudaOnClasspath());
        if (t instanceof BadInputException) {
            err.println("error: " + oneLine(t.getMessage()));
        } else if (oom != null) {
            err.println("error: " + MemoryCheck.outOfMemory(oom));
        } else if (backend.isPresent()) {
            err.println("error: " + backend.get());
        } else {
            String message = t.getMessage() == null ? "" : ": " + oneLine(t.getMessage());
            err.println("error: internal error: " + t.getClass().getName() + message);
            code = EXIT_INTERNAL;
        }
        if (System.getenv("GRAM_DEBUG") != null && !System.getenv("GRAM_DEBUG").isEmpty()) {
            StringWriter trace = new StringWriter();
            t.printStackTrace(new PrintWriter(trace));
            err.print(trace);
        }
        err.flush();
        return code;
    }

    /** The first {@link OutOfMemoryError} in the cause chain, or {@code null}. */
    private static OutOfMemoryError outOfMemory(Throwable t) {
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Throwable e = t; e != null && seen.add(e); e = e.getCause()) {
            if (e instanceof OutOfMemoryError oom) {
                return oom;
            }
        }
        return null;
    }

    /** Messages go on one line whatever they hold. */
    static String oneLine(String message) {
        if (message == null) {
            return "(no message)";
        }
        return message.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ");
    }

    private static List<String> commandNames(CommandSpec spec) {
        return spec.subcommands().keySet().stream().filter(n -> !n.equals("help")).toList();
    }

    /** {@code gram <version>}: Implementation-Version of the jar manifest, or the project version. */
    static final class ManifestVersion implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = GramCli.class.getPackage().getImplementationVersion();
            return new String[] {"gram " + (v == null || v.isBlank() ? FALLBACK_VERSION : v)};
        }
    }
}

package io.github.gram4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options every command on embedding files shares, as a picocli mixin: {@code --anchor A.npy},
 * {@code --inputs X1.npy[,X2.npy,…]} (comma-separated or repeated) and {@code --dtype}. Use it in
 * a command with {@code @Mixin EmbeddingOptions files;} and read the files with {@link #read()}.
 */
public final class EmbeddingOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--anchor", required = true, paramLabel = "A.npy", description = "Anchor batch, B1 x d.")
    Path anchor;

    @Option(names = "--inputs", paramLabel = "X.npy",
            description = "Candidate batches X1[,X2,...], B2 x d each (comma-separated, or repeat the option)."
                    + " Required (gram eval: unless --index is given).")
    List<String> inputs;

    @Mixin
    DtypeOption dtype;

    /** The anchor file; {@code --anchor ''} is a usage error. */
    public Path anchor() {
        if (anchor.toString().isEmpty()) {
            throw new ParameterException(mixee.commandLine(), "--anchor: empty file name");
        }
        return anchor;
    }

    /** The candidate files in order; an empty element ({@code X1.npy,} or {@code X1.npy,,X2.npy}) is a usage error. */
    public List<Path> inputs() {
        if (inputs == null) {
            throw new ParameterException(mixee.commandLine(), "Missing required option: '--inputs=X.npy'");
        }
        return splitFiles(mixee, "--inputs", inputs);
    }

    /** Whether {@code --inputs} was given. */
    public boolean hasInputs() {
        return inputs != null;
    }

    /** The anchor and the candidate files. */
    public List<Path> all() {
        List<Path> all = new ArrayList<>();
        all.add(anchor());
        all.addAll(inputs());
        return all;
    }

    /** {@code --dtype}, or {@code null} for the files' own dtype. */
    public DataType dataType() {
        return dtype.dataType();
    }

    /** Reads and checks the headers of the files (see {@link EmbeddingFiles#headers}). */
    EmbeddingFiles.Headers headers() {
        return EmbeddingFiles.headers(anchor(), inputs(), dataType());
    }

    /**
     * Splits comma-separated file lists (each option value may hold several), keeping empty
     * elements so that they are reported.
     *
     * @throws ParameterException naming {@code option} and the value with the empty element
     */
    static List<Path> splitFiles(CommandSpec spec, String option, List<String> values) {
        List<Path> files = new ArrayList<>();
        for (String value : values) {
            for (String part : value.split(",", -1)) {
                if (part.isEmpty()) {
                    throw new ParameterException(spec.commandLine(), option + ": empty file name in '" + value
                            + "' (a leading, trailing or doubled comma?)");
                }
                files.add(Path.of(part));
            }
        }
        return files;
    }

    /** {@code --dtype float32|float64} as a mixin of its own (also used by commands without files). */
    public static final class DtypeOption {
        @Option(names = "--dtype", paramLabel = "DTYPE",
                description = "float32 or float64: cast all inputs to it first. Default: the anchor's dtype,"
                        + " and every input must have it.")
        Dtype dtype;

        /** The chosen dtype, or {@code null}. */
        public DataType dataType() {
            return dtype == null ? null : dtype.dataType;
        }
    }

    /** The dtypes of {@code --dtype}; picocli matches them case-insensitively. */
    public enum Dtype {
        FLOAT32(DataType.FLOAT),
        FLOAT64(DataType.DOUBLE);

        final DataType dataType;

        Dtype(DataType dataType) {
            this.dataType = dataType;
        }

        /** The ND4J dtype. */
        public DataType dataType() {
            return dataType;
        }

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}

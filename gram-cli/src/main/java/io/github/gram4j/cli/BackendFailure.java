package io.github.gram4j.cli;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Recognises a failed ND4J backend load in an exception chain and says, in one line, which backend
 * failed, why, and what to use instead.
 *
 * <p>ND4J loads its backend in the static initialiser of {@code Nd4j}: a failure surfaces as an
 * {@link ExceptionInInitializerError} (later as {@code NoClassDefFoundError: Could not initialize
 * class org.nd4j.linalg.factory.Nd4j}) whose causes hold the real reason, e.g. an
 * {@link UnsatisfiedLinkError} for {@code libcuda.so.1} on a machine without an NVIDIA driver, or a
 * CUDA error "no kernel image is available" on a GPU the CUDA 11.6 build has no code for (Hopper
 * and newer).
 */
final class BackendFailure {

    /** The CUDA backend of the {@code -Pcuda} build. */
    static final String CUDA = "nd4j-cuda-11.6";
    /** The default CPU backend. */
    static final String CPU = "nd4j-native";

    private static final String CPU_BUILD = "use the CPU build instead: mvn -B -DskipTests -pl gram-cli -am package"
            + " (without -Pcuda), then bin/gram";

    private BackendFailure() {
    }

    /**
     * The one-line description of a backend load failure, if {@code t} is one.
     *
     * @param t any throwable that reached the top of the CLI
     * @param cudaOnClasspath whether the CUDA backend is on the class path (the {@code -Pcuda} build)
     */
    static Optional<String> describe(Throwable t, boolean cudaOnClasspath) {
        List<Throwable> chain = chain(t);
        String text = String.join(" | ", chain.stream().map(BackendFailure::text).toList());
        String lower = text.toLowerCase(Locale.ROOT);
        boolean loadError = chain.stream().anyMatch(e -> e instanceof ExceptionInInitializerError
                || e instanceof UnsatisfiedLinkError || e instanceof NoClassDefFoundError)
                || lower.contains("nd4j backend") || lower.contains("noavailablebackend");
        boolean nd4j = lower.contains("nd4j") || lower.contains("javacpp") || lower.contains("jcublas")
                || lower.contains("libcuda") || lower.contains("cuda") || lower.contains("jnind4j");
        if (!loadError || !nd4j) {
            return Optional.empty();
        }
        boolean cuda = cudaOnClasspath || lower.contains("cuda") || lower.contains("jcublas");
        String backend = cuda ? CUDA : CPU;
        String why;
        String instead;
        if (lower.contains("libcuda.so")) {
            why = "no NVIDIA driver (libcuda.so.1, the driver's library, was not found)";
            instead = CPU_BUILD + "; or install the NVIDIA driver";
        } else if (lower.contains("no kernel image") || lower.contains("nokernelimage")
                || lower.contains("no_binary_for_gpu") || lower.contains("invalid device function")) {
            why = "this GPU is not supported by ND4J's CUDA 11.6 build (it has kernels for compute capability 3.7"
                    + " to 8.6 only, none for Hopper or newer)";
            instead = CPU_BUILD + "; or run on a GPU of compute capability 3.7 to 8.6 (V100, T4, A100, RTX 30xx)";
        } else if (lower.contains("libcudart") || lower.contains("libcublas") || lower.contains("libcusolver")
                || lower.contains("libcudnn")) {
            why = "the CUDA 11.6 runtime libraries were not found (" + innermost(chain) + ")";
            instead = CPU_BUILD + "; or install CUDA 11.6";
        } else if (cuda) {
            why = innermost(chain);
            instead = CPU_BUILD;
        } else {
            why = innermost(chain);
            instead = "nd4j-native needs Linux x86-64 with glibc; see the README, Backends";
        }
        return Optional.of("the ND4J backend " + backend + " failed to load: " + why + "; " + instead);
    }

    /** Whether the CUDA backend classes are on the class path, without loading them. */
    static boolean cudaOnClasspath() {
        return BackendFailure.class.getClassLoader().getResource("org/nd4j/linalg/jcublas/JCublasBackend.class") != null;
    }

    private static List<Throwable> chain(Throwable t) {
        List<Throwable> chain = new ArrayList<>();
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        List<Throwable> todo = new ArrayList<>(List.of(t));
        while (!todo.isEmpty()) {
            Throwable e = todo.remove(0);
            if (e == null || seen.put(e, Boolean.TRUE) != null) {
                continue;
            }
            chain.add(e);
            todo.add(e.getCause());
            if (e instanceof ExceptionInInitializerError init) {
                todo.add(init.getException());
            }
            for (Throwable s : e.getSuppressed()) {
                todo.add(s);
            }
        }
        return chain;
    }

    private static String text(Throwable e) {
        return e.getClass().getName() + ": " + e.getMessage();
    }

    /** The innermost throwable with a message, in one line. */
    private static String innermost(List<Throwable> chain) {
        for (int i = chain.size() - 1; i >= 0; i--) {
            if (chain.get(i).getMessage() != null && !chain.get(i).getMessage().isBlank()) {
                return chain.get(i).getClass().getSimpleName() + ": " + GramCli.oneLine(chain.get(i).getMessage());
            }
        }
        return chain.get(chain.size() - 1).getClass().getName();
    }
}

package io.github.gram4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

/**
 * The backend-load classifier on simulated exception chains: the CUDA build cannot load here (no
 * driver, and the chains below are what ND4J 1.0.0-M2.1 throws in those cases).
 */
class BackendFailureTest {

    private static final String NO_DRIVER = "/root/.javacpp/cache/nd4j-cuda-11.6-1.0.0-M2.1-linux-x86_64.jar/org/nd4j/"
            + "linalg/jcublas/bindings/linux-x86_64/libjnind4jcuda.so: libcuda.so.1: cannot open shared object file:"
            + " No such file or directory";

    private static String describe(Throwable t, boolean cuda) {
        Optional<String> line = BackendFailure.describe(t, cuda);
        assertTrue(line.isPresent(), "not recognised: " + t);
        assertFalse(line.get().contains("\n"), line.get());
        return line.get();
    }

    @Test
    void noNvidiaDriver() {
        Throwable t = new ExceptionInInitializerError(new RuntimeException(
                new RuntimeException("ND4J backend load failed", new UnsatisfiedLinkError(NO_DRIVER))));
        String line = describe(t, true);
        assertTrue(line.startsWith("the ND4J backend nd4j-cuda-11.6 failed to load: no NVIDIA driver"), line);
        assertTrue(line.contains("libcuda.so.1") && line.contains("use the CPU build instead")
                && line.contains("without -Pcuda"), line);
    }

    @Test
    void aGpuTheCuda116BuildHasNoKernelsFor() {
        Throwable t = new ExceptionInInitializerError(new RuntimeException(
                "cudaErrorNoKernelImageForDevice: no kernel image is available for execution on the device"));
        String line = describe(t, true);
        assertTrue(line.contains("nd4j-cuda-11.6") && line.contains("this GPU is not supported")
                && line.contains("Hopper") && line.contains("use the CPU build instead"), line);
    }

    @Test
    void laterUsesOfTheFailedClassAreRecognisedToo() {
        Throwable t = new NoClassDefFoundError("Could not initialize class org.nd4j.linalg.factory.Nd4j");
        String line = describe(t, true);
        assertTrue(line.startsWith("the ND4J backend nd4j-cuda-11.6 failed to load: NoClassDefFoundError: Could not"
                + " initialize class org.nd4j.linalg.factory.Nd4j"), line);
        // the CPU build: the same failure names nd4j-native
        assertTrue(describe(t, false).startsWith("the ND4J backend nd4j-native failed to load"));
    }

    @Test
    void missingCudaRuntime() {
        Throwable t = new ExceptionInInitializerError(new UnsatisfiedLinkError(
                "no jnicudart in java.library.path: libcudart.so.11.0: cannot open shared object file"));
        String line = describe(t, false);
        assertTrue(line.contains("nd4j-cuda-11.6") && line.contains("CUDA 11.6 runtime libraries"), line);
    }

    @Test
    void otherErrorsAreNotBackendFailures() {
        assertEquals(Optional.empty(), BackendFailure.describe(new IllegalStateException("it broke"), true));
        assertEquals(Optional.empty(), BackendFailure.describe(new OutOfMemoryError("Java heap space"), false));
        assertEquals(Optional.empty(), BackendFailure.describe(
                new ExceptionInInitializerError(new ArithmeticException("/ by zero")), false));
    }
}

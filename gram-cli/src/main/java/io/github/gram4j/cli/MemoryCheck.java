package io.github.gram4j.cli;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.Locale;

import org.bytedeco.javacpp.Pointer;

/**
 * The up-front memory check of the CLI: a command estimates the off-heap bytes its arrays will need
 * (a lower bound: inputs, results, score matrices) and {@link #require} refuses the work before
 * it starts if JavaCPP, which allocates ND4J's arrays, would not allow them. JavaCPP's limits
 * ({@code org.bytedeco.javacpp.maxbytes}, default the heap limit {@code -Xmx}, and
 * {@code maxphysicalbytes}, default twice that) are raised with {@code GRAM_JAVA_OPTS=-Xmx…}.
 */
final class MemoryCheck {

    private static final long GIB = 1L << 30;

    private MemoryCheck() {
    }

    /** Bytes of {@code elements} numbers of {@code itemSize} bytes, saturating instead of overflowing. */
    static long bytes(double elements, int itemSize) {
        double b = elements * itemSize;
        return b >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) Math.ceil(b);
    }

    /**
     * Refuses work that needs more off-heap memory than this JVM allows.
     *
     * @param needed the estimated bytes (a lower bound)
     * @param what what needs them, for the message ({@code "the 40000 x 40000 float32 volume matrix"})
     * @throws BadInputException with the estimate, the limit and the {@code GRAM_JAVA_OPTS} hint
     */
    static void require(long needed, String what) {
        long maxBytes = Pointer.maxBytes();
        long maxPhysical = Pointer.maxPhysicalBytes();
        long available = maxBytes > 0 ? maxBytes - Pointer.totalBytes() : Long.MAX_VALUE;
        if (maxPhysical > 0) {
            available = Math.min(available, maxPhysical - Pointer.physicalBytes());
        }
        if (needed <= available) {
            return;
        }
        long ram = physicalMemory();
        String ramNote = ram > 0 && needed > ram
                ? "; that is more than this machine's memory (" + bytes(ram) + "): use smaller batches" : "";
        throw new BadInputException(what + " needs at least " + bytes(needed) + " of memory but this JVM allows "
                + bytes(Math.max(available, 0)) + " more (JavaCPP maxbytes " + bytes(maxBytes) + ", which follows -Xmx)"
                + ramNote + "; " + hint(needed + Pointer.totalBytes()));
    }

    /** {@code give the JVM more memory: GRAM_JAVA_OPTS=-Xmx<n>g bin/gram …} for {@code total} bytes. */
    static String hint(long total) {
        long gib = Math.max(2, (long) Math.ceil(total * 1.25 / GIB) + 1);
        return "give the JVM more memory, e.g. GRAM_JAVA_OPTS=-Xmx" + gib + "g bin/gram ...";
    }

    /** The message for an {@link OutOfMemoryError} that happened anyway. */
    static String outOfMemory(OutOfMemoryError e) {
        String detail = e.getMessage() == null ? "" : " (" + GramCli.oneLine(e.getMessage()) + ")";
        long limit = Pointer.maxBytes() > 0 ? Pointer.maxBytes() : Runtime.getRuntime().maxMemory();
        return "out of memory" + detail + "; the JVM allows " + bytes(limit)
                + "; give it more, e.g. GRAM_JAVA_OPTS=-Xmx" + Math.max(2, 2 * limit / GIB + 1) + "g bin/gram ..., or use"
                + " smaller batches";
    }

    /** {@code 1.5 GiB}, {@code 12.0 MiB}, {@code 512 bytes}. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " bytes";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static long physicalMemory() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getTotalMemorySize();
        }
        return -1;
    }
}

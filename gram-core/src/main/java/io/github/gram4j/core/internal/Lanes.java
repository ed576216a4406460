package io.github.gram4j.core.internal;

/**
 * The elementwise kernels of the host loops, on rows held in Java arrays: conversions between
 * float and double rows, dot products, axpy, the volume epilogue and the exponentials of the
 * cross-entropy. Arithmetic is in double whatever the array dtype.
 *
 * <p>Two implementations, chosen once per JVM ({@link #get()}):
 * <ul>
 *   <li>{@code vector}: the JDK's Vector API ({@code jdk.incubator.vector}), used when the JVM
 *       was started with {@code --add-modules jdk.incubator.vector} (as {@code bin/gram}, the tests
 *       and the benchmarks do); SIMD lanes of the platform's preferred width, transcendental
 *       functions within 1 ulp;</li>
 *   <li>{@code scalar}: plain loops, everywhere else, or when the system property
 *       {@code gram4j.vector} is {@code false}.</li>
 * </ul>
 * Both are deterministic (a fixed order of operations for a given length); they differ from each
 * other only by rounding. Not part of the public API.
 */
public abstract class Lanes {

    /** The system property that turns the vector kernels off ({@code -Dgram4j.vector=false}). */
    public static final String PROPERTY = "gram4j.vector";

    private static final Lanes SCALAR = new ScalarLanes();
    private static final Lanes VECTOR = loadVector();
    private static final Lanes CHOSEN = VECTOR != null && !"false".equalsIgnoreCase(System.getProperty(PROPERTY))
            ? VECTOR : SCALAR;

    Lanes() {
    }

    /** {@return the kernels every loop of this JVM uses} */
    public static Lanes get() {
        return CHOSEN;
    }

    /** {@return the scalar kernels} */
    public static Lanes scalar() {
        return SCALAR;
    }

    /** {@return the Vector API kernels, or null when {@code jdk.incubator.vector} is not in the boot layer} */
    public static Lanes vector() {
        return VECTOR;
    }

    private static Lanes loadVector() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        try {
            return (Lanes) Class.forName("io.github.gram4j.core.internal.VectorLanes").getDeclaredConstructor()
                    .newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    /** {@return "vector (…)" or "scalar": which kernels these are, for logs and benchmarks} */
    public abstract String description();

    /** {@code dst[dstFrom + c] = src[srcFrom + c]} for {@code c < n}. */
    public abstract void widen(float[] src, int srcFrom, double[] dst, int dstFrom, int n);

    /** {@code dst[dstFrom + c] = (float) src[srcFrom + c]} for {@code c < n}. */
    public abstract void narrow(double[] src, int srcFrom, float[] dst, int dstFrom, int n);

    /** {@return {@code Σ_{c < n} a[c]·b[c]}} */
    public abstract double dot(double[] a, double[] b, int n);

    /** {@code y[c] += alpha·x[c]} for {@code c < n}. */
    public abstract void axpy(double alpha, double[] x, double[] y, int n);

    /** {@return {@code max_c |x[c]|} over {@code c < n}: NaN if any is NaN, 0 for {@code n = 0}} */
    public abstract double maxAbs(double[] x, int n);

    /** {@return whether every one of {@code x[0 … n − 1]} is finite (no NaN, no ±∞)} */
    public abstract boolean allFinite(double[] x, int n);



    /** {@code x[c] *= alpha} for {@code c < n}. */
    public abstract void scale(double[] x, double alpha, int n);

    /** {@code s[c] −= w[wFrom + c]²} for {@code c < n}. */
    public abstract void subtractSquares(double[] w, int wFrom, double[] s, int n);

    /**
     * {@code v[c] = p[c]·sqrt(max(s[c], 0))} for {@code c < n}.
     *
     * @param single round {@code s} and {@code p} to float and take the square root and the
     *     product in float (for FLOAT results: a square root in double costs twice as much, and
     *     the result is rounded to float anyway; within 1.5 ulp of float)
     */
    public abstract void volumes(double[] s, double[] p, double[] v, int n, boolean single);


    /**
     * Scales a row of scores into logits and folds it into running column statistics:
     * {@code z[c] *= scale}, {@code columnMax[c] = max(columnMax[c], z[c])},
     * {@code columnSum[c] += z[c]}.
     *
     * @return {@code {max_c z[c], Σ_c z[c]}} in {@code out[0]}, {@code out[1]}
     */
    public abstract void logits(double[] z, double scale, double[] columnMax, double[] columnSum, int n,
            double[] out);

    /** {@code e[c] = exp(z[c] − shift)}; {@return {@code Σ_c e[c]}} */
    public abstract double expShifted(double[] z, double shift, double[] e, int n);

    /**
     * A gradient row of the one-process smoothed cross-entropy, from the scores {@code S} (not
     * changed): with the logits {@code x[c] = scale·S[c]},
     * {@code g[c] = scale·(exp(x[c] − shift)·(rowFactor + columnScale·columnFactor[c]) − offTarget)}.
     *
     * @return {@code Σ_c (g[c]/scale)·x[c]}, the row's part of {@code Σ (∂L/∂x)·x}
     */
    public abstract double softmaxGradient(double[] scores, double scale, double shift, double rowFactor,
            double columnScale, double[] columnFactor, double offTarget, double[] g, int n);

    /**
     * The first pair terms of the volume backward: {@code c[c] = g[c]·v[c] / max(s[c], floor)}
     * (written over {@code g}), and {@code gvSum[c] += g[c]·v[c]}.
     *
     * @param single divide in float (for FLOAT batches: a third of the cost of a double division)
     * @return {@code Σ c[c]}
     */
    public abstract double pairWeights(double[] g, double[] v, double[] s, double floor, double[] gvSum, int n,
            boolean single);

    /** {@code out[c] = a[c]·b[c]}. */
    public abstract void multiply(double[] a, int aFrom, double[] b, double[] out, int outFrom, int n);

    /** {@code acc[c] += a[aFrom + c]·b[bFrom + c]}. */
    public abstract void accumulateProduct(double[] a, int aFrom, double[] b, int bFrom, double[] acc, int n);

    /**
     * The squared distances of a row from FLOAT GEMM outputs, in float lanes:
     * {@code s[c] = aa − Σ_m w[m·cols + c]²} by float fused multiply-adds, widened to double. (The
     * GEMM that produced {@code w} already carries a rounding error of about {@code sqrt(d)} ulps
     * of {@code |a|²} in {@code s}; float arithmetic adds {@code K} more.)
     *
     * @param w the row's {@code K} GEMM outputs one after another, {@code kk·cols} values
     */
    public abstract void distances(float[] w, int kk, int cols, float aa, double[] s);


}

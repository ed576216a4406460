package io.github.gram4j.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Random;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link Lanes}: which kernels run, and the Vector API kernels against the scalar ones (the
 * definition) on every length around the lane width, where the vector body and the scalar tail
 * meet. The default test run starts the JVM with {@code jdk.incubator.vector}; the build's
 * {@code scalar-kernels} run starts it without, and repeats the fixture suites there.
 */
class LanesTest {

    private static final int[] LENGTHS = {0, 1, 2, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 64, 100, 1027};

    @Test
    void theChosenKernelsFollowTheRuntime() {
        boolean moduleResolved = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        boolean turnedOff = "false".equalsIgnoreCase(System.getProperty(Lanes.PROPERTY));
        if (!moduleResolved) {
            assertNull(Lanes.vector());
        }
        if (!moduleResolved || turnedOff) {
            assertSame(Lanes.scalar(), Lanes.get());
            assertEquals("scalar", Lanes.get().description());
        } else {
            assertNotNull(Lanes.vector());
            assertSame(Lanes.vector(), Lanes.get());
            assertEquals(true, Lanes.get().description().startsWith("vector"));
        }
    }

    @Test
    void theDefaultTestRunUsesTheVectorKernels() {
        // the root pom adds the module to every test JVM but the scalar-kernels run
        Assumptions.assumeTrue(System.getProperty(Lanes.PROPERTY) == null, "scalar-kernels run");
        assertNotNull(Lanes.vector(), "jdk.incubator.vector is not resolved: check test.argLine");
        assertSame(Lanes.vector(), Lanes.get());
    }

    @Test
    void conversionsAreExact() {
        Lanes v = vector();
        Random random = new Random(1);
        for (int n : LENGTHS) {
            float[] f = new float[n + 3];
            for (int c = 0; c < f.length; c++) {
                f[c] = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(40) - 20));
            }
            double[] d = new double[n + 5];
            v.widen(f, 3, d, 5, n);
            for (int c = 0; c < n; c++) {
                assertEquals(f[3 + c], d[5 + c], 0.0);
            }
            double[] wide = randoms(random, n + 2);
            float[] narrow = new float[n + 1];
            v.narrow(wide, 2, narrow, 1, n);
            for (int c = 0; c < n; c++) {
                assertEquals((float) wide[2 + c], narrow[1 + c], 0.0f);
            }
        }
    }

    @Test
    void reductionsAgreeWithTheScalarKernels() {
        Lanes v = vector();
        Lanes s = Lanes.scalar();
        Random random = new Random(2);
        for (int n : LENGTHS) {
            double[] a = randoms(random, n);
            double[] b = randoms(random, n);
            assertClose(s.dot(a, b, n), v.dot(a, b, n), n);
            double[] z = randoms(random, n);
            assertClose(s.expShifted(z, 0.7, new double[n], n), v.expShifted(z, 0.7, new double[n], n), n);
        }
    }

    @Test
    void rowKernelsAgreeWithTheScalarKernels() {
        Random random = new Random(3);
        for (int n : LENGTHS) {
            double[] x = randoms(random, n + 4);
            double[] p = randoms(random, n);
            double[] q = randoms(random, n);
            compare(n, (lanes, y) -> lanes.axpy(-0.37, x, y, n), q);
            compare(n, (lanes, y) -> lanes.scale(y, 2.5, n), q);
            compare(n, (lanes, y) -> lanes.subtractSquares(x, 4, y, n), q);
            compare(n, (lanes, y) -> lanes.volumes(q, p, y, n, false), q);
            compare(n, (lanes, y) -> lanes.volumes(q, p, y, n, true), q);
            compare(n, (lanes, y) -> lanes.multiply(x, 2, p, y, 0, n), q);
            compare(n, (lanes, y) -> lanes.accumulateProduct(x, 1, p, 0, y, n), q);
            compare(n, (lanes, y) -> lanes.accumulateProduct(x, 3, x, 2, y, n), p);
            compare(n, (lanes, y) -> lanes.expShifted(x, 1.5, y, n), q);
        }
    }

    @Test
    void floatDistancesAgreeWithTheScalarKernel() {
        Random random = new Random(6);
        for (int n : LENGTHS) {
            float[] w = new float[3 * n + 5];
            for (int c = 0; c < w.length; c++) {
                w[c] = (float) random.nextGaussian();
            }
            double[][] s = {new double[n], new double[n]};
            Lanes[] both = {Lanes.scalar(), vector()};
            for (int k = 0; k < 2; k++) {
                both[k].distances(w, 3, n, 2.5f, s[k]);
            }
            // the same float operations in the same order: bit-identical
            assertArrayEquals(s[0], s[1], 0.0);
            for (int c = 0; c < n; c++) {
                double expected = 2.5;
                for (int m = 0; m < 3; m++) {
                    expected -= (double) w[m * n + c] * w[m * n + c];
                }
                assertEquals(expected, s[0][c], 1e-5 * Math.max(1, Math.abs(expected)), "distance " + c);
            }
        }
    }

    @Test
    void volumesClampNegativeDistancesToZero() {
        for (Lanes lanes : new Lanes[] {Lanes.scalar(), vector()}) {
            double[] s = {4, -1e-17, 0, 9, -3, 1, 1, 1, 16};
            double[] p = {1, 5, 5, 2, 7, 1, 1, 1, 0.5};
            double[] v = new double[s.length];
            for (boolean single : new boolean[] {false, true}) {
                lanes.volumes(s, p, v, s.length, single);
                assertArrayEquals(new double[] {2, 0, 0, 6, 0, 1, 1, 1, 2}, v, 0.0, lanes.description());
            }
        }
    }

    @Test
    void crossEntropyKernelsAgreeWithTheScalarKernels() {
        Lanes v = vector();
        Lanes s = Lanes.scalar();
        Random random = new Random(4);
        for (int n : LENGTHS) {
            double[] scores = randoms(random, n);
            double[][] z = {scores.clone(), scores.clone()};
            double[][] max = {filled(n, -1), filled(n, -1)};
            double[][] sum = {randoms(new Random(n), n), randoms(new Random(n), n)};
            double[][] stats = {new double[2], new double[2]};
            s.logits(z[0], -14.3, max[0], sum[0], n, stats[0]);
            v.logits(z[1], -14.3, max[1], sum[1], n, stats[1]);
            assertArrayEquals(z[0], z[1], 0.0);
            assertArrayEquals(max[0], max[1], 0.0);
            assertArrayEquals(sum[0], sum[1], 1e-13);
            assertEquals(stats[0][0], stats[1][0], 0.0);
            assertClose(stats[0][1], stats[1][1], n);

            double[] factor = randoms(random, n);
            double[][] g = {new double[n], new double[n]};
            double dotS = s.softmaxGradient(scores, -14.3, 2.0, 0.01, 0.3, factor, 1e-4, g[0], n);
            double dotV = v.softmaxGradient(scores, -14.3, 2.0, 0.01, 0.3, factor, 1e-4, g[1], n);
            assertArrays(g[0], g[1]);
            assertClose(dotS, dotV, n);

            double[][] weights = {scores.clone(), scores.clone()};
            double[] volumes = randoms(random, n);
            double[] distances = randoms(random, n);
            double[][] gv = {randoms(new Random(n), n), randoms(new Random(n), n)};
            for (boolean single : new boolean[] {false, true}) {
                double[][] w = {weights[0].clone(), weights[1].clone()};
                double rowS = s.pairWeights(w[0], volumes, distances, 0.05, gv[0], n, single);
                double rowV = v.pairWeights(w[1], volumes, distances, 0.05, gv[1], n, single);
                assertArrays(w[0], w[1]);
                assertArrays(gv[0], gv[1]);
                assertClose(rowS, rowV, n);
            }
        }
    }

    @Test
    void anElementsValueDoesNotDependOnItsPositionInTheRow() {
        // 4 values repeated over 21 elements: positions in the vector body and in the tail hold the
        // same inputs and must give bit-identical outputs (so equal volumes stay ties)
        int n = 21;
        double[] pattern = {0.3, -1.7, 2.9, 0.0123};
        double[] x = new double[n];
        double[] p = new double[n];
        double[] q = new double[n];
        for (int c = 0; c < n; c++) {
            x[c] = pattern[c % 4];
            p[c] = 1.5 + pattern[(c + 1) % 4];
            q[c] = 2 * pattern[(c + 2) % 4] + 0.1;
        }
        for (Lanes lanes : new Lanes[] {Lanes.scalar(), Lanes.vector()}) {
            if (lanes == null) {
                continue;
            }
            java.util.List<double[]> outputs = new java.util.ArrayList<>();
            double[] y = q.clone();
            lanes.axpy(0.37, x, y, n);
            outputs.add(y);
            y = q.clone();
            lanes.subtractSquares(x, 0, y, n);
            outputs.add(y);
            y = new double[n];
            lanes.volumes(q, p, y, n, false);
            outputs.add(y);
            y = new double[n];
            lanes.volumes(q, p, y, n, true);
            outputs.add(y);
            y = q.clone();
            lanes.accumulateProduct(x, 0, p, 0, y, n);
            outputs.add(y);
            y = new double[n];
            lanes.expShifted(x, 0.5, y, n);
            outputs.add(y);
            y = new double[n];
            lanes.softmaxGradient(x, -14.3, 1.0, 0.01, 0.3, p, 1e-4, y, n);
            outputs.add(y);
            y = x.clone();
            lanes.pairWeights(y, p, q, 0.05, new double[n], n, false);
            outputs.add(y);
            y = x.clone();
            lanes.pairWeights(y, p, q, 0.05, new double[n], n, true);
            outputs.add(y);
            for (int k = 0; k < outputs.size(); k++) {
                double[] out = outputs.get(k);
                for (int c = 4; c < n; c++) {
                    assertEquals(out[c % 4], out[c], 0.0, lanes.description() + " kernel " + k + " position " + c);
                }
            }
        }
    }

    /** Runs {@code kernel} on copies of {@code start} with both implementations and compares. */
    private static void compare(int n, BiConsumer<Lanes, double[]> kernel, double[] start) {
        double[] expected = java.util.Arrays.copyOf(start, Math.max(n, start.length));
        double[] actual = expected.clone();
        kernel.accept(Lanes.scalar(), expected);
        kernel.accept(vector(), actual);
        assertArrays(expected, actual);
    }

    private static Lanes vector() {
        Assumptions.assumeTrue(Lanes.vector() != null, "jdk.incubator.vector not resolved in this JVM");
        return Lanes.vector();
    }

    private static void assertArrays(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        for (int c = 0; c < expected.length; c++) {
            // fused multiply-adds and SVML's exp differ from the scalar loop by rounding only
            assertEquals(expected[c], actual[c], 1e-14 * Math.max(1, Math.abs(expected[c])), "element " + c);
        }
    }

    /** Sums of {@code n} terms in another order: a few ulps of the terms' scale. */
    private static void assertClose(double expected, double actual, int n) {
        assertEquals(expected, actual, 1e-14 * Math.max(1, n) * Math.max(1, Math.abs(expected)));
    }

    private static double[] randoms(Random random, int n) {
        double[] x = new double[n];
        for (int c = 0; c < n; c++) {
            x[c] = random.nextGaussian();
        }
        return x;
    }

    private static double[] filled(int n, double value) {
        double[] x = new double[n];
        java.util.Arrays.fill(x, value);
        return x;
    }
}

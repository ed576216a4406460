package io.github.gram4j.core.internal;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Lanes} on the Vector API: double lanes of the platform's preferred width (8 with
 * AVX-512), float rows converted through float vectors of half that width. Each method runs the
 * whole vectors first, then the tail: as scalars with the same arithmetic as a lane (fused
 * multiply-adds where the lanes use them), or as one masked vector where a lane's result cannot be
 * reproduced by scalar code (the exponentials). So an element's value does not depend on its
 * position in the row: equal inputs give equal outputs, and ties stay ties. Loaded by reflection,
 * only when {@code jdk.incubator.vector} is in the boot layer.
 */
final class VectorLanes extends Lanes {

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    private static final int LANES = D.length();

    @Override
    public String description() {
        return "vector (jdk.incubator.vector, " + LANES + " double lanes)";
    }

    private static int bound(int n) {
        return n - n % LANES;
    }

    @Override
    public void widen(float[] src, int srcFrom, double[] dst, int dstFrom, int n) {
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            ((DoubleVector) FloatVector.fromArray(F, src, srcFrom + c).convertShape(VectorOperators.F2D, D, 0))
                    .intoArray(dst, dstFrom + c);
        }
        for (; c < n; c++) {
            dst[dstFrom + c] = src[srcFrom + c];
        }
    }

    @Override
    public void narrow(double[] src, int srcFrom, float[] dst, int dstFrom, int n) {
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            ((FloatVector) DoubleVector.fromArray(D, src, srcFrom + c).convertShape(VectorOperators.D2F, F, 0))
                    .intoArray(dst, dstFrom + c);
        }
        for (; c < n; c++) {
            dst[dstFrom + c] = (float) src[srcFrom + c];
        }
    }

    @Override
    public double dot(double[] a, double[] b, int n) {
        DoubleVector acc0 = DoubleVector.zero(D);
        DoubleVector acc1 = DoubleVector.zero(D);
        int c = 0;
        for (int end = n - n % (2 * LANES); c < end; c += 2 * LANES) {
            acc0 = DoubleVector.fromArray(D, a, c).fma(DoubleVector.fromArray(D, b, c), acc0);
            acc1 = DoubleVector.fromArray(D, a, c + LANES).fma(DoubleVector.fromArray(D, b, c + LANES), acc1);
        }
        double sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; c < n; c++) {
            sum += a[c] * b[c];
        }
        return sum;
    }

    @Override
    public void axpy(double alpha, double[] x, double[] y, int n) {
        DoubleVector a = DoubleVector.broadcast(D, alpha);
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector.fromArray(D, x, c).fma(a, DoubleVector.fromArray(D, y, c)).intoArray(y, c);
        }
        for (; c < n; c++) {
            y[c] = Math.fma(x[c], alpha, y[c]);
        }
    }

    @Override
    public double maxAbs(double[] x, int n) {
        DoubleVector max = DoubleVector.zero(D);
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            max = max.max(DoubleVector.fromArray(D, x, c).abs());
        }
        double total = max.reduceLanes(VectorOperators.MAX);
        for (; c < n; c++) {
            total = Math.max(total, Math.abs(x[c]));
        }
        return total;
    }

    @Override
    public boolean allFinite(double[] x, int n) {
        DoubleVector acc = DoubleVector.zero(D);
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            acc = acc.add(DoubleVector.fromArray(D, x, c).mul(0.0));     // NaN for NaN and ±∞, 0 otherwise
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; c < n; c++) {
            sum += x[c] * 0;
        }
        return sum == 0;
    }



    @Override
    public void scale(double[] x, double alpha, int n) {
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector.fromArray(D, x, c).mul(alpha).intoArray(x, c);
        }
        for (; c < n; c++) {
            x[c] *= alpha;
        }
    }

    @Override
    public void subtractSquares(double[] w, int wFrom, double[] s, int n) {
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector x = DoubleVector.fromArray(D, w, wFrom + c);
            x.neg().fma(x, DoubleVector.fromArray(D, s, c)).intoArray(s, c);
        }
        for (; c < n; c++) {
            double x = w[wFrom + c];
            s[c] = Math.fma(-x, x, s[c]);
        }
    }

    @Override
    public void volumes(double[] s, double[] p, double[] v, int n, boolean single) {
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector x = DoubleVector.fromArray(D, s, c).max(0.0);
            if (single) {
                FloatVector root = narrow(x).lanewise(VectorOperators.SQRT);
                widen(narrow(DoubleVector.fromArray(D, p, c)).mul(root)).intoArray(v, c);
            } else {
                x.lanewise(VectorOperators.SQRT).mul(DoubleVector.fromArray(D, p, c)).intoArray(v, c);
            }
        }
        ScalarLanes.volumes(s, p, v, c, n, single);
    }

    private static FloatVector narrow(DoubleVector x) {
        return (FloatVector) x.convertShape(VectorOperators.D2F, F, 0);
    }

    private static DoubleVector widen(FloatVector x) {
        return (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
    }


    @Override
    public void logits(double[] z, double scale, double[] columnMax, double[] columnSum, int n, double[] out) {
        DoubleVector max = DoubleVector.broadcast(D, Double.NEGATIVE_INFINITY);
        DoubleVector sum = DoubleVector.zero(D);
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector x = DoubleVector.fromArray(D, z, c).mul(scale);
            x.intoArray(z, c);
            max = max.max(x);
            sum = sum.add(x);
            DoubleVector.fromArray(D, columnMax, c).max(x).intoArray(columnMax, c);
            DoubleVector.fromArray(D, columnSum, c).add(x).intoArray(columnSum, c);
        }
        ScalarLanes.logits(z, scale, columnMax, columnSum, c, n, max.reduceLanes(VectorOperators.MAX),
                sum.reduceLanes(VectorOperators.ADD), out);
    }

    @Override
    public double expShifted(double[] z, double shift, double[] e, int n) {
        DoubleVector sum = DoubleVector.zero(D);
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector x = DoubleVector.fromArray(D, z, c).sub(shift).lanewise(VectorOperators.EXP);
            x.intoArray(e, c);
            sum = sum.add(x);
        }
        if (c < n) {
            VectorMask<Double> tail = D.indexInRange(c, n);
            DoubleVector x = DoubleVector.fromArray(D, z, c, tail).sub(shift).lanewise(VectorOperators.EXP);
            x.intoArray(e, c, tail);
            sum = sum.add(x, tail);
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public double softmaxGradient(double[] scores, double scale, double shift, double rowFactor,
            double columnScale, double[] columnFactor, double offTarget, double[] g, int n) {
        DoubleVector dot = DoubleVector.zero(D);
        DoubleVector scaleColumns = DoubleVector.broadcast(D, columnScale);
        DoubleVector row = DoubleVector.broadcast(D, rowFactor);
        DoubleVector off = DoubleVector.broadcast(D, -offTarget);
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector x = DoubleVector.fromArray(D, scores, c).mul(scale);
            DoubleVector factor = DoubleVector.fromArray(D, columnFactor, c).fma(scaleColumns, row);
            DoubleVector gc = x.sub(shift).lanewise(VectorOperators.EXP).fma(factor, off);
            gc.mul(scale).intoArray(g, c);
            dot = gc.fma(x, dot);
        }
        if (c < n) {
            VectorMask<Double> tail = D.indexInRange(c, n);
            DoubleVector x = DoubleVector.fromArray(D, scores, c, tail).mul(scale);
            DoubleVector factor = DoubleVector.fromArray(D, columnFactor, c, tail).fma(scaleColumns, row);
            DoubleVector gc = x.sub(shift).lanewise(VectorOperators.EXP).fma(factor, off);
            gc.mul(scale).intoArray(g, c, tail);
            dot = dot.add(gc.mul(x), tail);
        }
        return dot.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public double pairWeights(double[] g, double[] v, double[] s, double floor, double[] gvSum, int n,
            boolean single) {
        DoubleVector sum = DoubleVector.zero(D);
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector x = DoubleVector.fromArray(D, g, c).mul(DoubleVector.fromArray(D, v, c));
            DoubleVector.fromArray(D, gvSum, c).add(x).intoArray(gvSum, c);
            DoubleVector denominator = DoubleVector.fromArray(D, s, c).max(floor);
            DoubleVector weight = single ? widen(narrow(x).div(narrow(denominator))) : x.div(denominator);
            weight.intoArray(g, c);
            sum = sum.add(weight);
        }
        return sum.reduceLanes(VectorOperators.ADD) + ScalarLanes.pairWeights(g, v, s, floor, gvSum, c, n, single);
    }

    @Override
    public void multiply(double[] a, int aFrom, double[] b, double[] out, int outFrom, int n) {
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector.fromArray(D, a, aFrom + c).mul(DoubleVector.fromArray(D, b, c)).intoArray(out, outFrom + c);
        }
        for (; c < n; c++) {
            out[outFrom + c] = a[aFrom + c] * b[c];
        }
    }

    @Override
    public void accumulateProduct(double[] a, int aFrom, double[] b, int bFrom, double[] acc, int n) {
        int c = 0;
        for (int end = bound(n); c < end; c += LANES) {
            DoubleVector.fromArray(D, a, aFrom + c).fma(DoubleVector.fromArray(D, b, bFrom + c),
                    DoubleVector.fromArray(D, acc, c)).intoArray(acc, c);
        }
        for (; c < n; c++) {
            acc[c] = Math.fma(a[aFrom + c], b[bFrom + c], acc[c]);
        }
    }

    @Override
    public void distances(float[] w, int kk, int cols, float aa, double[] s) {
        int c = 0;
        for (int end = bound(cols); c < end; c += LANES) {
            FloatVector d = FloatVector.broadcast(F, aa);
            for (int m = 0; m < kk; m++) {
                FloatVector x = FloatVector.fromArray(F, w, m * cols + c);
                d = x.neg().fma(x, d);
            }
            widen(d).intoArray(s, c);
        }
        ScalarLanes.distances(w, kk, cols, aa, s, c);
    }


}

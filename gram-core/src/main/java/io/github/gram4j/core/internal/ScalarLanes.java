package io.github.gram4j.core.internal;

/** {@link Lanes} as plain loops: the fallback where the Vector API is not available. */
final class ScalarLanes extends Lanes {

    @Override
    public String description() {
        return "scalar";
    }

    @Override
    public void widen(float[] src, int srcFrom, double[] dst, int dstFrom, int n) {
        for (int c = 0; c < n; c++) {
            dst[dstFrom + c] = src[srcFrom + c];
        }
    }

    @Override
    public void narrow(double[] src, int srcFrom, float[] dst, int dstFrom, int n) {
        for (int c = 0; c < n; c++) {
            dst[dstFrom + c] = (float) src[srcFrom + c];
        }
    }

    @Override
    public double dot(double[] a, double[] b, int n) {
        double sum = 0;
        for (int c = 0; c < n; c++) {
            sum += a[c] * b[c];
        }
        return sum;
    }

    @Override
    public void axpy(double alpha, double[] x, double[] y, int n) {
        for (int c = 0; c < n; c++) {
            y[c] += alpha * x[c];
        }
    }

    @Override
    public double maxAbs(double[] x, int n) {
        double max = 0;
        for (int c = 0; c < n; c++) {
            max = Math.max(max, Math.abs(x[c]));
        }
        return max;
    }

    @Override
    public boolean allFinite(double[] x, int n) {
        double sum = 0;
        for (int c = 0; c < n; c++) {
            sum += x[c] * 0;     // NaN for NaN and ±∞, 0 otherwise
        }
        return sum == 0;
    }



    @Override
    public void scale(double[] x, double alpha, int n) {
        for (int c = 0; c < n; c++) {
            x[c] *= alpha;
        }
    }

    @Override
    public void subtractSquares(double[] w, int wFrom, double[] s, int n) {
        for (int c = 0; c < n; c++) {
            double x = w[wFrom + c];
            s[c] -= x * x;
        }
    }

    @Override
    public void volumes(double[] s, double[] p, double[] v, int n, boolean single) {
        volumes(s, p, v, 0, n, single);
    }

    /**
     * {@link #volumes(double[], double[], double[], int, boolean)} on {@code from ≤ c < n}: also
     * the vector kernels' tail.
     */
    static void volumes(double[] s, double[] p, double[] v, int from, int n, boolean single) {
        for (int c = from; c < n; c++) {
            v[c] = single ? (float) p[c] * (float) Math.sqrt((float) Math.max(s[c], 0.0))
                    : p[c] * Math.sqrt(Math.max(s[c], 0.0));
        }
    }


    @Override
    public void logits(double[] z, double scale, double[] columnMax, double[] columnSum, int n, double[] out) {
        logits(z, scale, columnMax, columnSum, 0, n, Double.NEGATIVE_INFINITY, 0, out);
    }

    /**
     * {@link #logits(double[], double, double[], double[], int, double[])} on {@code from ≤ c < n},
     * continuing a row maximum and sum: also the vector kernels' tail.
     */
    static void logits(double[] z, double scale, double[] columnMax, double[] columnSum, int from, int n,
            double max, double sum, double[] out) {
        for (int c = from; c < n; c++) {
            double x = z[c] * scale;
            z[c] = x;
            max = Math.max(max, x);
            sum += x;
            columnMax[c] = Math.max(columnMax[c], x);
            columnSum[c] += x;
        }
        out[0] = max;
        out[1] = sum;
    }

    @Override
    public double expShifted(double[] z, double shift, double[] e, int n) {
        double sum = 0;
        for (int c = 0; c < n; c++) {
            e[c] = Math.exp(z[c] - shift);
            sum += e[c];
        }
        return sum;
    }

    @Override
    public double softmaxGradient(double[] scores, double scale, double shift, double rowFactor,
            double columnScale, double[] columnFactor, double offTarget, double[] g, int n) {
        double dot = 0;
        for (int c = 0; c < n; c++) {
            double x = scores[c] * scale;
            double gc = Math.exp(x - shift) * (rowFactor + columnScale * columnFactor[c]) - offTarget;
            g[c] = gc * scale;
            dot += gc * x;
        }
        return dot;
    }

    @Override
    public double pairWeights(double[] g, double[] v, double[] s, double floor, double[] gvSum, int n,
            boolean single) {
        return pairWeights(g, v, s, floor, gvSum, 0, n, single);
    }

    /**
     * {@link #pairWeights(double[], double[], double[], double, double[], int, boolean)} on
     * {@code from ≤ c < n}: also the vector kernels' tail.
     */
    static double pairWeights(double[] g, double[] v, double[] s, double floor, double[] gvSum, int from, int n,
            boolean single) {
        double sum = 0;
        for (int c = from; c < n; c++) {
            double x = g[c] * v[c];
            gvSum[c] += x;
            double weight = single ? (float) x / (float) Math.max(s[c], floor) : x / Math.max(s[c], floor);
            g[c] = weight;
            sum += weight;
        }
        return sum;
    }

    @Override
    public void multiply(double[] a, int aFrom, double[] b, double[] out, int outFrom, int n) {
        for (int c = 0; c < n; c++) {
            out[outFrom + c] = a[aFrom + c] * b[c];
        }
    }

    @Override
    public void accumulateProduct(double[] a, int aFrom, double[] b, int bFrom, double[] acc, int n) {
        for (int c = 0; c < n; c++) {
            acc[c] += a[aFrom + c] * b[bFrom + c];
        }
    }

    @Override
    public void distances(float[] w, int kk, int cols, float aa, double[] s) {
        distances(w, kk, cols, aa, s, 0);
    }

    /**
     * {@link #distances(float[], int, int, float, double[])} on {@code from ≤ c < cols}: also the
     * vector kernels' tail.
     */
    static void distances(float[] w, int kk, int cols, float aa, double[] s, int from) {
        for (int c = from; c < cols; c++) {
            float d = aa;
            for (int m = 0; m < kk; m++) {
                float x = w[m * cols + c];
                d = Math.fma(-x, x, d);
            }
            s[c] = d;
        }
    }


}

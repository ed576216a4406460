package io.github.gram4j.core;

/** How {@link GramVolumes#pairwise(VolumeMethod, org.nd4j.linalg.api.ndarray.INDArray,
 * org.nd4j.linalg.api.ndarray.INDArray...)} computes a volume matrix. */
public enum VolumeMethod {
    /**
     * The default: {@code K = k − 1} GEMMs against per-candidate orthonormal bases, then
     * {@code O(B1·B2·K)} elementwise work. Never builds the {@code (B1, B2, k, k)} Gram tensor;
     * memory {@code O(B1·B2 + K·B2·d)}. Accurate to a few ulps of the volume scale in the input
     * dtype.
     */
    FAST,
    /**
     * The seed's formula: build the {@code (B1, B2, k, k)} Gram tensor (entries in the input
     * dtype) and take {@code sqrt(|det|)} of every {@code k × k} matrix (LU with partial
     * pivoting, accumulated in double precision, rounded to the input dtype). Memory
     * {@code O(B1·B2·k²)} in double precision, and the determinants run on the JVM: for tests and
     * small inputs.
     */
    REFERENCE
}

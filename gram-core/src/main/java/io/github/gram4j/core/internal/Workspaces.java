package io.github.gram4j.core.internal;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scratch memory for gram4j's kernels: ND4J workspaces, one per thread and kernel id.
 *
 * <p>The first call of a kernel on a thread learns how much scratch it needs; later calls reuse
 * that block, so temporaries cost no allocation (a fresh 4 MB INDArray outside a workspace costs
 * milliseconds). Arrays created inside a scope are invalid once it closes: results are allocated
 * before the scope opens,. Not part of the public API.
 */
public final class Workspaces {

    private static final WorkspaceConfiguration SCRATCH = WorkspaceConfiguration.builder()
            .initialSize(0)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .overallocationLimit(0.1)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private Workspaces() {
    }

    /** Opens (activates) this thread's scratch workspace {@code id}; close it with try-with-resources. */
    public static MemoryWorkspace open(String id) {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(SCRATCH, id);
    }

    /** Opens a scope in which allocations go to ordinary (non-workspace) memory. */
    public static MemoryWorkspace outside() {
        return Nd4j.getWorkspaceManager().scopeOutOfWorkspaces();
    }
}

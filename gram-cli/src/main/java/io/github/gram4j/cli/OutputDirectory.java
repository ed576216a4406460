package io.github.gram4j.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A set of output files in one directory ({@code loss --out-dir DIR}), checked and reserved before
 * the work starts and put in place as a whole after it.
 *
 * <p>{@link #reserve} creates missing parent directories, refuses a {@code DIR} that is a file or an
 * input that lives in {@code DIR} under a name of the output set (named so, or a symbolic link to
 * such a file), removes this CLI's stale staging
 * directories of {@code DIR}, and creates the staging directory {@code .DIR.<hex>.tmp} beside it
 * (locked, see {@link TempFiles}). {@link #write} fills files in the staging directory (each forced
 * to disk); {@link #commit} puts the set in place:
 * <ul>
 *   <li>{@code DIR} does not exist: the staging directory is renamed to {@code DIR} (one atomic
 *       rename);</li>
 *   <li>{@code DIR} exists: every file in it that belongs to the output set (the names
 *       {@code owns} accepts, also those of an earlier run that this run does not write, e.g.
 *       {@code grad_gathered_*}) is moved aside into the staging directory, then the new files are
 *       moved in; other files in {@code DIR} stay. If a move fails, the moves done so far are
 *       undone, so {@code DIR} holds the old set again.</li>
 * </ul>
 * A failure before the commit leaves {@code DIR} untouched. Only a kill during the commit's
 * renames (microseconds) can leave a mix, which the next run replaces.
 */
public final class OutputDirectory implements AutoCloseable {

    /** Moves one file; a parameter only so that tests can make a move fail. */
    @FunctionalInterface
    interface Mover {
        void move(Path from, Path to) throws IOException;
    }

    static final Mover ATOMIC_RENAME = (from, to) -> Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);

    private final Path dir;
    private final String name;
    private final Predicate<String> owns;
    private final TempFiles.Locked staging;
    private final Set<String> written = new LinkedHashSet<>();
    private boolean done;
    /** Set when an undo failed: the staging directory then holds files of the earlier run. */
    private boolean keepStaging;

    private OutputDirectory(Path dir, String name, Predicate<String> owns, TempFiles.Locked staging) {
        this.dir = dir;
        this.name = name;
        this.owns = owns;
        this.staging = staging;
    }

    /**
     * Checks {@code out} and reserves its staging directory.
     *
     * @param out the directory as given
     * @param option the option, for messages ({@code --out-dir})
     * @param owns which file names belong to the output set
     * @param expectedBytes the total size of the set (a lower bound; 0 if unknown)
     * @param inputs the command's input files
     * @throws BadInputException naming the option and path, if the set cannot be written there
     */
    public static OutputDirectory reserve(Path out, String option, Predicate<String> owns, long expectedBytes,
            Collection<Path> inputs) {
        String name = option + " " + out;
        if (out.toString().isEmpty() || out.getFileName() == null) {
            throw new BadInputException(name + ": not a directory name");
        }
        Path dir = out.toAbsolutePath().normalize();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new BadInputException(name + ": exists and is not a directory");
        }
        for (Path in : inputs) {
            // the input as named, and the file it is when it is a symbolic link (which the set
            // would replace under its own name)
            for (Path file : namesOf(in)) {
                Path parent = file.getParent();
                boolean inside = parent != null && Files.isDirectory(dir) && sameDirectory(parent, dir);
                if (inside && file.getFileName() != null && owns.test(file.getFileName().toString())) {
                    throw new BadInputException(name + ": holds the input " + in
                            + (file.equals(in.toAbsolutePath().normalize()) ? "" : " (" + file + ")")
                            + ", which this command would replace; choose another output directory");
                }
            }
        }
        Path parent = dir.getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot create the parent directory " + parent + ": "
                    + OutputFile.reason(e), e);
        }
        TempFiles.removeStale(parent, dir.getFileName().toString());
        TempFiles.Locked staging;
        try {
            staging = TempFiles.createDirectory(parent, dir.getFileName().toString());
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot create a directory in " + parent + ": " + OutputFile.reason(e), e);
        }
        OutputDirectory out2 = new OutputDirectory(dir, name, owns, staging);
        try {
            if (Files.isDirectory(dir) && !Files.isWritable(dir)) {
                throw new BadInputException(name + ": not writable");
            }
            OutputFile.checkSpace(parent, expectedBytes, name);
        } catch (RuntimeException e) {
            out2.close();
            throw e;
        }
        return out2;
    }

    /** {@code in} made absolute, and its real path too when that differs (a symbolic link, resolved). */
    private static List<Path> namesOf(Path in) {
        Path named = in.toAbsolutePath().normalize();
        try {
            Path real = in.toRealPath();
            return real.equals(named) ? List.of(named) : List.of(named, real);
        } catch (IOException e) {
            return List.of(named);  // not there (or not readable): only its name can be checked
        }
    }

    private static boolean sameDirectory(Path a, Path b) {
        try {
            return a.equals(b) || Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    /** The output directory (absolute). */
    public Path directory() {
        return dir;
    }

    /**
     * Writes one file of the set into the staging directory and forces it to disk.
     *
     * @param fileName a name that {@code owns} accepts
     * @throws BadInputException naming the path, if writing fails
     */
    public void write(String fileName, OutputFile.Content content) {
        if (!owns.test(fileName) || fileName.contains("/")) {
            throw new IllegalArgumentException(fileName + " is not a name of this output set");
        }
        Path file = staging.path().resolve(fileName);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            content.writeTo(ch);
            ch.force(true);
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot write " + dir.resolve(fileName) + ": " + OutputFile.reason(e), e);
        }
        written.add(fileName);
    }

    /** Puts the written set in place (see the class comment). */
    public void commit() {
        commit(ATOMIC_RENAME);
    }

    void commit(Mover mover) {
        if (done) {
            throw new IllegalStateException(name + ": already committed");
        }
        Path stage = staging.path();
        TempFiles.syncDirectory(stage);
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                staging.release();
                Files.delete(stage.resolve(TempFiles.LOCK_NAME));
                mover.move(stage, dir);
                done = true;
                TempFiles.syncDirectory(dir.getParent());
                return;
            }
            replaceInPlace(mover);
            done = true;
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot put the output files in place: " + OutputFile.reason(e)
                    + (keepStaging ? "; the earlier files are kept in " + stage : ""), e);
        } finally {
            close();
        }
    }

    private void replaceInPlace(Mover mover) throws IOException {
        Path stage = staging.path();
        Path aside = Files.createDirectory(stage.resolve(".previous"));
        List<String> old = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, p -> owns.test(p.getFileName().toString()))) {
            entries.forEach(p -> old.add(p.getFileName().toString()));
        }
        List<String> movedAside = new ArrayList<>();
        List<String> movedIn = new ArrayList<>();
        try {
            for (String f : old) {
                mover.move(dir.resolve(f), aside.resolve(f));
                movedAside.add(f);
            }
            for (String f : written) {
                mover.move(stage.resolve(f), dir.resolve(f));
                movedIn.add(f);
            }
        } catch (IOException e) {
            // undo, newest first: the directory holds the old set again
            for (int i = movedIn.size() - 1; i >= 0; i--) {
                keepStaging |= !undo(dir.resolve(movedIn.get(i)), stage.resolve(movedIn.get(i)));
            }
            for (int i = movedAside.size() - 1; i >= 0; i--) {
                keepStaging |= !undo(aside.resolve(movedAside.get(i)), dir.resolve(movedAside.get(i)));
            }
            throw e;
        }
        TempFiles.syncDirectory(dir);
    }

    private static boolean undo(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            return false; // the file stays in the staging directory, which is then kept
        }
    }

    /** Drops the reservation: removes the staging directory (and anything moved aside into it). */
    @Override
    public void close() {
        staging.release();
        if (!keepStaging) {
            TempFiles.deleteTree(staging.path());
        }
        staging.forget();
    }
}

package io.github.gram4j.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

import javax.imageio.ImageIO;

/**
 * Writes an output the way the CLI writes every output: to a temporary file beside the target,
 * then renamed over it, so that a failure never leaves a partial file. ({@code .npy} outputs go
 * through {@link NpyFiles#writeAtomically}, which also keeps an existing file's permissions.)
 */
final class AtomicFiles {

    /** Fills a temporary file. */
    @FunctionalInterface
    interface Content {
        void writeTo(Path file) throws IOException;
    }

    private AtomicFiles() {
    }

    static void write(Path target, Content content) throws IOException {
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        try {
            content.writeTo(tmp);
            if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static void writePng(Path target, BufferedImage image) throws IOException {
        write(target, file -> {
            if (!ImageIO.write(image, "png", file.toFile())) {
                throw new IOException("no PNG writer available");
            }
        });
    }

    static void writeText(Path target, CharSequence text) throws IOException {
        write(target, file -> Files.writeString(file, text, StandardCharsets.UTF_8));
    }
}

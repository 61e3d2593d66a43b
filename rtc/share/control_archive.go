package share

import (
	"archive/tar"
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// maxArchiveFiles bounds the entries of an uploaded archive: a segment
// folder of an hour at 60 fps is 216 000 images, far past what the
// budget holds, so this is generous.
const maxArchiveFiles = 100_000

// unpacker writes an archive's regular files and folders under dst,
// refusing paths that leave it (zip slip), links and devices, and more
// than a byte and a file budget.
type unpacker struct {
	dst   string
	left  int64 // bytes still allowed
	files int
}

func newUnpacker(dst string, maxBytes int64) (*unpacker, error) {
	if err := os.Mkdir(dst, 0o700); err != nil {
		return nil, withStatus(http.StatusInternalServerError, "unpack: %v", err)
	}
	return &unpacker{dst: dst, left: maxBytes}, nil
}

// path is where an archive member goes, or an error for one that would
// land outside dst.
func (u *unpacker) path(name string) (string, error) {
	n := filepath.FromSlash(strings.TrimPrefix(name, "./"))
	if strings.Contains(name, `\`) || !filepath.IsLocal(n) {
		return "", fmt.Errorf("archive member %q: path leaves the folder", name)
	}
	return filepath.Join(u.dst, n), nil
}

func (u *unpacker) add(name string, mode fs.FileMode, r io.Reader) error {
	u.files++
	if u.files > maxArchiveFiles {
		return withStatus(http.StatusRequestEntityTooLarge, "archive has over %d members", maxArchiveFiles)
	}
	p, err := u.path(name)
	if err != nil {
		return err
	}
	switch {
	case mode.IsDir():
		return os.MkdirAll(p, 0o700)
	case !mode.IsRegular():
		return fmt.Errorf("archive member %q: %v is not a regular file or folder", name, mode.Type())
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("archive member %q appears twice", name)
		}
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, u.left+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	u.left -= n
	if u.left < 0 {
		return withStatus(http.StatusRequestEntityTooLarge, "archive unpacks to over the upload limit")
	}
	if err != nil {
		return fmt.Errorf("archive member %q: %w", name, err)
	}
	return nil
}

// extractTar unpacks a tar stream under dst.
func extractTar(r io.Reader, dst string, maxBytes int64) error {
	u, err := newUnpacker(dst, maxBytes)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("tar: %w", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if err := u.add(h.Name, h.FileInfo().Mode(), tr); err != nil {
			return fmt.Errorf("tar: %w", err)
		}
	}
}

// extractZip unpacks the zip file at path under dst.
func extractZip(path, dst string, maxBytes int64) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	defer zr.Close()
	u, err := newUnpacker(dst, maxBytes)
	if err != nil {
		return err
	}
	if len(zr.File) > maxArchiveFiles {
		return withStatus(http.StatusRequestEntityTooLarge, "zip: over %d members", maxArchiveFiles)
	}
	for _, f := range zr.File {
		err := func() error {
			if f.Mode().IsDir() || !f.Mode().IsRegular() {
				return u.add(f.Name, f.Mode(), nil)
			}
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("archive member %q: %w", f.Name, err)
			}
			defer rc.Close()
			return u.add(f.Name, f.Mode(), rc)
		}()
		if err != nil {
			return fmt.Errorf("zip: %w", err)
		}
	}
	return nil
}

// segmentRoot is the segment folder an archive unpacked to dir holds:
// its single top folder when it has one and nothing else (hidden files
// and __MACOSX aside), else dir itself; ours says it is dir.
func segmentRoot(dir string) (string, bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false, err
	}
	var top []fs.DirEntry
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && e.Name() != "__MACOSX" {
			top = append(top, e)
		}
	}
	if len(top) == 1 && top[0].IsDir() {
		return filepath.Join(dir, top[0].Name()), false, nil
	}
	return dir, true, nil
}

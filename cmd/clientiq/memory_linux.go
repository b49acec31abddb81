package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pageOutExecutable asks the kernel to drop this process's resident pages
// of its own executable file (code and read-only data). What start-up ran
// once (package initialisation, migrations checks, code paths of other
// commands pulled in with the libraries) leaves the resident set; what the
// requests use comes back on its first touch. It returns the bytes of
// mappings advised.
func pageOutExecutable() (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var advised int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		start, end, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		lo, err1 := strconv.ParseUint(start, 16, 64)
		hi, err2 := strconv.ParseUint(end, 16, 64)
		if err1 != nil || err2 != nil || hi <= lo {
			continue
		}
		for _, advice := range []uintptr{unix.MADV_RANDOM, unix.MADV_PAGEOUT} {
			if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), advice); errno != 0 {
				return advised, errno
			}
		}
		advised += int64(hi - lo)
	}
	if err := sc.Err(); err != nil {
		return advised, err
	}
	// The page cache still holds the rest of the file (as the build or
	// the copy left it), and a fault maps the cached pages around it too
	// (fault-around, 64 KB): drop them, so that with MADV_RANDOM (no
	// read-ahead) a fault brings in the page it needs and no more.
	exeFile, err := os.Open(exe)
	if err != nil {
		return advised, err
	}
	defer exeFile.Close()
	return advised, unix.Fadvise(int(exeFile.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// orasclient: a minimal ORAS client built on Debian's ORAS Go library
// (oras.land/oras-go v1, golang-oras-oras-go-dev), used by the ocisync
// interop tests as an independent implementation. It does what the `oras`
// command built on that library version does:
//
//	orasclient pull REF DIR        oras pull REF -o DIR: every layer of type
//	                               ...layer.v1.tar or ...layer.v1.tar+gzip that
//	                               has a title is written under DIR by the
//	                               file store (a titled archive is saved as it
//	                               is unless it carries io.deis.oras.content.unpack)
//	orasclient push REF PATH...    oras push REF PATH...: a file becomes one
//	                               layer of its raw bytes, a directory one
//	                               tar+gzip layer (entries under its name,
//	                               unpack annotation), each titled PATH
//
// The registry is reached over plain HTTP (the tests' loopback registry).
// Build offline in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o orasclient ./tests/oras/orasclient
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/pkg/content"
	"oras.land/oras-go/pkg/oras"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: orasclient pull REF DIR | orasclient push REF PATH...")
	os.Exit(2)
}

func registry() *content.Registry {
	reg, err := content.NewRegistry(content.RegistryOptions{PlainHTTP: true})
	if err != nil {
		fail(err)
	}
	return reg
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "orasclient:", err)
	os.Exit(1)
}

func pull(ref, dir string) {
	store := content.NewFile(dir)
	defer store.Close()
	// oras pull's defaults: only the two layer types it knows, named layers only.
	allowed := []string{content.DefaultBlobMediaType, content.DefaultBlobDirMediaType}
	var layers []ocispec.Descriptor
	desc, err := oras.Copy(context.Background(), registry(), ref, store, "",
		oras.WithAllowedMediaTypes(allowed),
		oras.WithLayerDescriptors(func(l []ocispec.Descriptor) { layers = l }))
	if err != nil {
		fail(err)
	}
	for _, l := range layers {
		fmt.Printf("%s %s\n", l.Digest, l.Annotations[ocispec.AnnotationTitle])
	}
	fmt.Printf("pulled %s\n", desc.Digest)
}

func push(ref string, paths []string) {
	store := content.NewFile("")
	defer store.Close()
	var files []ocispec.Descriptor
	for _, p := range paths {
		// oras push names each layer by the path as given, cleaned and
		// '/'-separated; absolute paths and ".." are refused.
		name := filepath.ToSlash(filepath.Clean(p))
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			fail(fmt.Errorf("%s: names must be relative paths inside the current directory", p))
		}
		d, err := store.Add(name, "", p)
		if err != nil {
			fail(err)
		}
		files = append(files, d)
	}
	config, configDesc, err := content.GenerateConfig(nil)
	if err != nil {
		fail(err)
	}
	if err := store.Load(configDesc, config); err != nil {
		fail(err)
	}
	manifest, manifestDesc, err := content.GenerateManifest(&configDesc, nil, files...)
	if err != nil {
		fail(err)
	}
	if err := store.StoreManifest(ref, manifestDesc, manifest); err != nil {
		fail(err)
	}
	desc, err := oras.Copy(context.Background(), store, ref, registry(), "")
	if err != nil {
		fail(err)
	}
	fmt.Printf("pushed %s\n", desc.Digest)
}

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	switch os.Args[1] {
	case "pull":
		if len(os.Args) != 4 {
			usage()
		}
		pull(os.Args[2], os.Args[3])
	case "push":
		if len(os.Args) < 4 {
			usage()
		}
		push(os.Args[2], os.Args[3:])
	default:
		usage()
	}
}

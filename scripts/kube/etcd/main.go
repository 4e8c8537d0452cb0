// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 by
// scripts/install-kube.sh (the root module go.etcd.io/etcd/v3 has local replaces, so
// `go install` of it fails; this wrapper pins the server module instead).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}

// Command kstatus prints the kstatus verdict (sigs.k8s.io/cli-utils/pkg/kstatus/status, the rules Flux, kpt and
// cli-utils appliers wait on) of Kubernetes objects read as JSON from stdin: one object, a List (`kubectl get -o json`)
// or a stream of objects. For each object it prints one line, {"status": "Current|InProgress|Failed|...", "message": "..."}.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(in)
	enc := json.NewEncoder(out)
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("object %d on stdin is not JSON: %w", n, err)
		}
		// Unstructured's own decoder, not encoding/json's: kstatus reads generations as int64, never float64.
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("object %d on stdin is not a Kubernetes object: %w", n, err)
		}
		items := []unstructured.Unstructured{*obj}
		if obj.IsList() {
			list, err := obj.ToList()
			if err != nil {
				return fmt.Errorf("list %d on stdin: %w", n, err)
			}
			items = list.Items
		}
		for i := range items {
			res, err := status.Compute(&items[i])
			if err != nil {
				return fmt.Errorf("%s %s: %w", items[i].GetKind(), items[i].GetName(), err)
			}
			if err := enc.Encode(verdict{Status: res.Status.String(), Message: res.Message}); err != nil {
				return err
			}
		}
	}
}

package main

import (
	"context"
	"sync"
	"sync/atomic"
)

// dialers is how many connections the bench opens at once: enough to fill a
// thousand streams in seconds, few enough not to look like a SYN flood.
const dialers = 16

// dialAll calls open(i) for every i in [from, n), dialers at a time, until
// ctx ends. It returns how many failed and the first error.
func dialAll(ctx context.Context, from, n int, open func(i int) error) (failed int, firstErr string) {
	var next atomic.Int64
	next.Store(int64(from))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range dialers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := open(i); err != nil {
					mu.Lock()
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return failed, firstErr
}

package api

import (
	"net/http"
	"strings"
)

// withPages hands the requests under a page prefix (Config.Pages) to its
// handler; everything else goes to the API's routes. The pages are HTML
// for browsers, not part of the API: they are kept off the mux, whose
// routes openapi.json documents one by one.
func (s *Server) withPages(next http.Handler) http.Handler {
	if len(s.cfg.Pages) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for prefix, h := range s.cfg.Pages {
			if strings.HasPrefix(r.URL.Path, prefix) {
				r.Pattern = prefix // the route of the request log and metrics
				h.ServeHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

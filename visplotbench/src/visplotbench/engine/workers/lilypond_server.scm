;; The LilyPond fork server, run INSIDE a warm worker's sandbox by workers/lilypond_job.py:
;;   lilypond --png -dcrop -dno-point-and-click -dresolution=150 -o main -e '(load "lilypond_server.scm")'
;;
;; Why: a one-shot lilypond spends ~0.5 of a one-page score's ~0.9 CPU-s before it reads the score
;; (Guile loads lily.scm, then declarations-init.ly is parsed). The server does that once, then
;; forks one child per score; the child is exactly what `lilypond ... main.ly` would be from there
;; on (same options, the same per-file code as lily.scm's lilypond-all and lilypond-main), so the
;; images and the log are byte-identical to the one-shot command's.
;;
;; Protocol. stdin, one line per job, fields separated by tabs:
;;   NONCE  PROXY-PID  JOB-DIR  CPU-S  FILE-SIZE-BYTES  MEMORY-BYTES  PRINT-PAGES(0|1)
;; stdout: "ready" once; per job "started NONCE PID" and then "done NONCE WAIT-STATUS CPU-SECONDS".
;; The child writes its stdout/stderr to the proxy's (the worker's forked job process) fds 1 and 2,
;; reopened through /proc, so the worker captures and caps them as for any other job.
;;
;; Isolation: the server makes itself non-dumpable, so a child (which runs the score's Scheme) can
;; neither ptrace it nor reopen its pipes through /proc. A child can still signal it; the worker
;; checks the server after every job and starts a new one if it is gone, stopped or has input
;; waiting that nobody sent (workers/lilypond_job.py).

(use-modules (ice-9 rdelim) (system foreign))

(define lilypond-file (@@ (lily) lilypond-file))
(define lily-exit (@@ (lily) ly:exit))
(define protocol (fdes->outport (dup 1)))

(define (set-non-dumpable!)
  (let ((prctl (pointer->procedure int (dynamic-func "prctl" (dynamic-link))
                                   (list int unsigned-long unsigned-long unsigned-long unsigned-long))))
    (prctl 4 0 0 0 0)))  ; PR_SET_DUMPABLE, 0

(define (vm-size)
  "This process's address space in bytes (the memory limit is on top of it, as for fork-mode jobs)."
  (call-with-input-file "/proc/self/status"
    (lambda (port)
      (let loop ((line (read-line port)))
        (cond ((eof-object? line) 0)
              ((string-prefix? "VmSize:" line)
               (* 1024 (string->number (car (string-tokenize (substring line 7))))))
              (else (loop (read-line port))))))))

(define (children-cpu)
  "CPU seconds of the children waited for so far: the proxy tells a kill at the CPU limit by it."
  (let ((t (times)))
    (exact->inexact (/ (+ (tms:cutime t) (tms:cstime t)) internal-time-units-per-second))))

(define (run-job proxy dir cpu fsize memory print-pages)
  (setsid)
  (close-port protocol)
  (let ((out (open-fdes (format #f "/proc/~a/fd/1" proxy) O_WRONLY))
        (err (open-fdes (format #f "/proc/~a/fd/2" proxy) O_WRONLY))
        (null (open-fdes "/dev/null" O_RDONLY)))
    (dup2 null 0)
    (dup2 out 1)
    (dup2 err 2)
    (for-each close-fdes (list out err null)))
  ;; If the worker's memory cap is hit, the job dies, not the server.
  (call-with-output-file "/proc/self/oom_score_adj" (lambda (port) (display "1000" port)))
  ;; soft < hard: SIGXCPU (which names the limit) first, SIGKILL a second later
  (setrlimit 'cpu cpu (+ cpu 1))
  (setrlimit 'fsize fsize fsize)
  (let ((as (+ (vm-size) memory))) (setrlimit 'as as as))
  (chdir dir)
  (ly:set-option 'print-pages print-pages)
  ;; lily.scm's lilypond-all for one file, then lilypond-main's ending.
  (let ((failed #f))
    (lilypond-file (lambda (key file) (set! failed #t)) "main.ly")
    (ly:check-expected-warnings)
    (if failed
        (begin (ly:error (G_ "failed files: ~S") "main.ly") (lily-exit 1 #f))
        (lily-exit 0 #f))))

(define (child fields)
  "Run one job and exit; never return into the server's loop."
  (catch #t
    (lambda ()
      (run-job (list-ref fields 1) (list-ref fields 2) (string->number (list-ref fields 3))
               (string->number (list-ref fields 4)) (string->number (list-ref fields 5))
               (equal? (list-ref fields 6) "1"))
      (primitive-exit 0))
    (lambda (key . args)
      (let ((code (if (and (eq? key 'quit) (pair? args) (integer? (car args))) (car args) 70)))
        (unless (eq? key 'quit)
          (format (current-error-port) "lilypond: ~a: ~s\n" key args))
        (force-output (current-output-port))
        (force-output (current-error-port))
        (primitive-exit code)))))

(define (serve)
  (set-non-dumpable!)
  (ly:reset-all-fonts)
  (ly:parse-init "declarations-init.ly")
  (display "ready\n" protocol)
  (force-output protocol)
  (let loop ()
    (let ((line (read-line (current-input-port))))
      (unless (eof-object? line)
        (let ((fields (string-split line #\tab)))
          (when (= (length fields) 7)
            (let ((pid (primitive-fork)))
              (if (= pid 0)
                  (child fields)
                  (begin
                    (format protocol "started ~a ~a\n" (car fields) pid)
                    (force-output protocol)
                    (let* ((before (children-cpu))
                           (status (cdr (waitpid pid))))
                      (format protocol "done ~a ~a ~a\n" (car fields) status (- (children-cpu) before)))
                    (force-output protocol))))))
        (loop)))))

(serve)
(primitive-exit 0)

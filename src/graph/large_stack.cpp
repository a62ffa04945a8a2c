// on_large_stack (large_stack.h): pthread_create with a stack size attribute, pthread_join.
// Spec: POSIX pthread_attr_setstacksize(3).
#include "graph/large_stack.h"

#include <pthread.h>

#include <exception>
#include <stdexcept>

namespace cnnscope::graph {
namespace {

constexpr size_t kStackBytes = size_t{256} << 20;

struct Job {
  const std::function<void()>* fn;
  std::exception_ptr error;
};

void* run_job(void* arg) {
  auto* job = static_cast<Job*>(arg);
  try {
    (*job->fn)();
  } catch (...) {
    job->error = std::current_exception();
  }
  return nullptr;
}

}  // namespace

void on_large_stack(const std::function<void()>& fn) {
  Job job{&fn, nullptr};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStackBytes);
  pthread_t thread;
  const int started = pthread_create(&thread, &attr, &run_job, &job);
  pthread_attr_destroy(&attr);
  if (started != 0) throw std::runtime_error("cannot start a thread to compile the graph");
  pthread_join(thread, nullptr);
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace cnnscope::graph

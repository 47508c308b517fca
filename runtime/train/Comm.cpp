//===- Comm.cpp - The processes of a data-parallel run --------------------===//
#include "runtime/train/Comm.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <dlfcn.h>

namespace bertc::rt {

namespace {

class SingleProcess final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(float *, size_t) override {}
  void sum(double *, size_t) override {}
  void barrier() override {}
  void startSum(float *, size_t) override {}
  void startSum(double *, size_t) override {}
  void progress() override {}
  size_t finishSums() override { return 0; }
};

/// Open MPI through its C ABI: handles are pointers to the library's
/// predefined objects (MPI_COMM_WORLD is &ompi_mpi_comm_world, MPI_FLOAT
/// &ompi_mpi_float, MPI_SUM &ompi_mpi_op_sum) and MPI_IN_PLACE is (void *)1
/// (mpi.h of Open MPI 4 and 5).
class OpenMpi final : public Communicator {
public:
  static std::unique_ptr<Communicator> open(const char *path, std::string &error) {
    // Open MPI's components are libraries that resolve libmpi's symbols
    // globally.
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
      const char *why = dlerror();
      error = std::string("launched by mpirun, but Open MPI cannot be opened (") + path +
              "): " + (why ? why : "not found") + " (install openmpi-bin)";
      return nullptr;
    }
    auto m = std::unique_ptr<OpenMpi>(new OpenMpi);
    bool ok = true;
    auto sym = [&](const char *name) {
      void *p = dlsym(lib, name);
      if (!p && ok) {
        error = std::string(path) + " has no " + name + " (not Open MPI 4 or 5?)";
        ok = false;
      }
      return p;
    };
    m->initThread_ = reinterpret_cast<InitThread>(sym("MPI_Init_thread"));
    m->finalize_ = reinterpret_cast<Finalize>(sym("MPI_Finalize"));
    m->commRank_ = reinterpret_cast<CommInt>(sym("MPI_Comm_rank"));
    m->commSize_ = reinterpret_cast<CommInt>(sym("MPI_Comm_size"));
    m->allreduce_ = reinterpret_cast<Allreduce>(sym("MPI_Allreduce"));
    m->barrier_ = reinterpret_cast<Barrier>(sym("MPI_Barrier"));
    m->iallreduce_ = reinterpret_cast<Iallreduce>(sym("MPI_Iallreduce"));
    m->test_ = reinterpret_cast<Test>(sym("MPI_Test"));
    m->wait_ = reinterpret_cast<Wait>(sym("MPI_Wait"));
    m->world_ = sym("ompi_mpi_comm_world");
    m->float_ = sym("ompi_mpi_float");
    m->double_ = sym("ompi_mpi_double");
    m->sumOp_ = sym("ompi_mpi_op_sum");
    if (!ok)
      return nullptr;
    int provided = 0;
    // MPI_THREAD_FUNNELED (1): only the main thread calls MPI; the kernels'
    // worker threads never do.
    if (m->initThread_(nullptr, nullptr, 1, &provided) != 0) {
      error = "MPI_Init_thread failed";
      return nullptr;
    }
    m->commRank_(m->world_, &m->rank_);
    m->commSize_(m->world_, &m->size_);
    return m;
  }

  ~OpenMpi() override {
    if (!abandoned_)
      finalize_();
  }
  void abandon() override { abandoned_ = true; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(float *data, size_t n) override { reduce(data, n, sizeof(float), float_); }
  void sum(double *data, size_t n) override { reduce(data, n, sizeof(double), double_); }
  void barrier() override { barrier_(world_); }
  void startSum(float *data, size_t n) override { start(data, n, sizeof(float), float_); }
  void startSum(double *data, size_t n) override { start(data, n, sizeof(double), double_); }
  void progress() override {
    for (Pending &p : pending_)
      if (!p.done) {
        int flag = 0;
        test_(&p.request, &flag, nullptr);
        p.done = flag != 0;
      }
  }
  size_t finishSums() override {
    size_t hidden = 0;
    for (Pending &p : pending_) {
      if (p.done)
        hidden += p.bytes;
      else
        wait_(&p.request, nullptr);
    }
    pending_.clear();
    return hidden;
  }

private:
  using InitThread = int (*)(int *, char ***, int, int *);
  using Finalize = int (*)();
  using CommInt = int (*)(void *, int *);
  using Allreduce = int (*)(const void *, void *, int, void *, void *, void *);
  using Barrier = int (*)(void *);
  // MPI_Request is a pointer (ompi_request_t *); MPI_STATUS_IGNORE is null.
  using Iallreduce = int (*)(const void *, void *, int, void *, void *, void *, void **);
  using Test = int (*)(void **, int *, void *);
  using Wait = int (*)(void **, void *);

  /// A started sum: its request, bytes, and whether it has completed.
  struct Pending {
    void *request = nullptr;
    size_t bytes = 0;
    bool done = false;
  };

  OpenMpi() = default;

  /// Calls `f(chunk, count)` over `data[0, n)` of `bytes`-sized elements
  /// in chunks: MPI's counts are ints.
  template <typename F> static void inChunks(void *data, size_t n, size_t bytes, F f) {
    auto *p = static_cast<char *>(data);
    for (size_t done = 0; done < n;) {
      size_t count = std::min<size_t>(n - done, INT_MAX / 2);
      f(p + done * bytes, static_cast<int>(count));
      done += count;
    }
  }

  // In place: MPI_IN_PLACE is (void *)1.
  void reduce(void *data, size_t n, size_t bytes, void *type) {
    inChunks(data, n, bytes, [&](char *chunk, int count) {
      allreduce_(reinterpret_cast<void *>(1), chunk, count, type, sumOp_, world_);
    });
  }

  void start(void *data, size_t n, size_t bytes, void *type) {
    inChunks(data, n, bytes, [&](char *chunk, int count) {
      Pending pending;
      pending.bytes = static_cast<size_t>(count) * bytes;
      iallreduce_(reinterpret_cast<void *>(1), chunk, count, type, sumOp_, world_,
                  &pending.request);
      pending_.push_back(pending);
    });
  }

  InitThread initThread_ = nullptr;
  Finalize finalize_ = nullptr;
  CommInt commRank_ = nullptr, commSize_ = nullptr;
  Allreduce allreduce_ = nullptr;
  Barrier barrier_ = nullptr;
  Iallreduce iallreduce_ = nullptr;
  Test test_ = nullptr;
  Wait wait_ = nullptr;
  std::vector<Pending> pending_;
  void *world_ = nullptr, *float_ = nullptr, *double_ = nullptr, *sumOp_ = nullptr;
  int rank_ = 0, size_ = 1;
  bool abandoned_ = false;
};

} // namespace

std::unique_ptr<Communicator> singleProcess() { return std::make_unique<SingleProcess>(); }

std::unique_ptr<Communicator> openCommunicator(std::string &error) {
  if (!std::getenv("OMPI_COMM_WORLD_SIZE"))
    return singleProcess();
  const char *path = std::getenv("BERTC_MPI_LIBRARY");
  return OpenMpi::open(path && *path ? path : "libmpi.so.40", error);
}

bool allRanksOk(Communicator &comm, bool ok, std::string &error) {
  double failed = ok ? 0.0 : 1.0;
  comm.sum(&failed, 1);
  if (failed == 0)
    return true;
  if (ok)
    error.clear();
  return false;
}

bool sameOnAllRanks(Communicator &comm, uint64_t fingerprint, const std::string &what,
                    std::string &error) {
  // Rank 0's fingerprint to all (as two exact halves), then each rank's
  // verdict to all.
  std::vector<double> root(2, 0.0);
  if (comm.rank() == 0) {
    root[0] = static_cast<double>(fingerprint >> 32);
    root[1] = static_cast<double>(fingerprint & 0xFFFFFFFFu);
  }
  comm.sum(root.data(), root.size());
  uint64_t want = (static_cast<uint64_t>(root[0]) << 32) | static_cast<uint64_t>(root[1]);
  std::vector<double> differs(static_cast<size_t>(comm.size()), 0.0);
  differs[static_cast<size_t>(comm.rank())] = fingerprint == want ? 0.0 : 1.0;
  comm.sum(differs.data(), differs.size());
  std::string ranks;
  for (size_t r = 0; r < differs.size(); ++r)
    if (differs[r] != 0)
      ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  if (ranks.empty())
    return true;
  error = comm.rank() == 0
              ? "rank " + ranks + " of " + std::to_string(comm.size()) + " run a different " +
                    what + " from rank 0; launch every rank with the same"
              : std::string();
  return false;
}

} // namespace bertc::rt

//===- Comm.h - The processes of a data-parallel run ------------*- C++ -*-===//
//
// A trainer launched by `mpirun -np N` is one of N ranks of Open MPI's world
// communicator; launched alone it is the only rank. The runtime opens Open
// MPI at run time (libmpi.so.40, like the Vulkan loader), only when the
// launcher says so (OMPI_COMM_WORLD_SIZE in the environment): a compiled
// program needs no MPI to build, install or run alone, and one binary serves
// both. Collectives run on the calling (main) thread; a failed peer ends the
// job through Open MPI's default error handler (errors are fatal), so no
// rank waits for a dead one.
//
//===----------------------------------------------------------------------===//
#ifndef BERTC_RUNTIME_TRAIN_COMM_H
#define BERTC_RUNTIME_TRAIN_COMM_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bertc::rt {

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Replaces `data[0, n)` on every rank by its sum over the ranks (the
  /// same bits on all: one reduction, broadcast).
  virtual void sum(float *data, size_t n) = 0;
  virtual void sum(double *data, size_t n) = 0;
  /// Returns once every rank has called it.
  virtual void barrier() = 0;
  /// Starts summing `data[0, n)` over the ranks as sum() does, without
  /// waiting; the data must not change until finishSums(). Every rank
  /// starts the same sums in the same order.
  virtual void startSum(float *data, size_t n) = 0;
  virtual void startSum(double *data, size_t n) = 0;
  /// Lets the started sums advance (Open MPI moves non-blocking
  /// collectives only inside its calls): call it often while computing.
  virtual void progress() = 0;
  /// Waits for every started sum; returns the bytes of those that had
  /// completed before this call (what the computation hid).
  virtual size_t finishSums() = 0;
  /// After this rank failed: leave without MPI_Finalize, which would wait
  /// for ranks still in a collective; the launcher then ends them all.
  virtual void abandon() {}
};

/// The world this process belongs to: Open MPI's when launched by its
/// `mpirun` (errors: libmpi.so.40 missing or MPI_Init failing), else one
/// rank. `BERTC_MPI_LIBRARY` names another library file to open.
std::unique_ptr<Communicator> openCommunicator(std::string &error);

/// A communicator of one rank: sums are the values themselves.
std::unique_ptr<Communicator> singleProcess();

/// Whether every rank passes `ok`; a rank that does not says why in its own
/// error, the others get an empty one (their peer speaks for them).
bool allRanksOk(Communicator &comm, bool ok, std::string &error);

/// Whether every rank holds the same `fingerprint` (of its program and
/// settings) as rank 0; if not, rank 0's error names the ranks that differ
/// and what (`what`), the others' are empty.
bool sameOnAllRanks(Communicator &comm, uint64_t fingerprint, const std::string &what,
                    std::string &error);

} // namespace bertc::rt

#endif // BERTC_RUNTIME_TRAIN_COMM_H

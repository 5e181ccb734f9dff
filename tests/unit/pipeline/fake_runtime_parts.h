// In-memory fakes of the runtime's three edges for its unit tests:
//   FakeStore   — pipeline::LeaseStore: partitions, leases and runners, with the SQL store's
//                 eligibility rules; a test can steal a lease (another runner took it).
//   FakeSink    — pipeline::Sink: commits into a FakeDatabase, fenced by the store's leases; can
//                 lose its connection before or after a commit lands, or lose a landed commit.
//   FakeSource  — pipeline::RecordSource: scripted segments and shards of (key, version) records.
// Thread-safe: one mutex per object (the store's also guards the database, like a transaction).
#pragma once

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/value.h"
#include "pipeline/lease_store.h"
#include "pipeline/record_source.h"
#include "pipeline/sink.h"

namespace ddb2pg::pipeline::testing {

struct FakePartition {
  PartitionKind kind = PartitionKind::kSegment;
  std::string parent;
  bool done = false;
  std::string position;
  std::string owner;
  int64_t epoch = 0;
  std::chrono::steady_clock::time_point expires{};
};

// The store and the committed data, under one lock.
class FakeStore final : public LeaseStore {
 public:
  explicit FakeStore(std::chrono::milliseconds ttl = std::chrono::milliseconds(2000)) : ttl_(ttl) {}

  void AddPartition(const std::string& id, PartitionKind kind, const std::string& parent = "") {
    std::lock_guard lock(mutex);
    partitions[id].kind = kind;
    partitions[id].parent = parent;
  }
  // Another runner takes `id` over (its lease expired there): owner changes, epoch + 1.
  void Steal(const std::string& id) {
    std::lock_guard lock(mutex);
    auto& p = partitions.at(id);
    p.owner = "thief";
    p.epoch += 1;
    p.expires = std::chrono::steady_clock::now() + std::chrono::hours(1);
  }
  void GiveBack(const std::string& id) {
    std::lock_guard lock(mutex);
    partitions.at(id).owner.clear();
  }
  // A runner of a newer configuration takes over (PgLeaseStore::DecideConfiguration): this
  // runner's leases end, its configuration is superseded while `current_runners` > 0.
  void Supersede(int current) {
    std::lock_guard lock(mutex);
    for (auto& [id, p] : partitions) {
      if (p.owner == me_ && !p.done) p.owner.clear();
    }
    superseded = true;
    current_runners = current;
  }

  core::Status Open() override { return core::Status::Ok(); }
  core::Status Register(const RunnerIdentity& me) override {
    std::lock_guard lock(mutex);
    me_ = me.runner_id;
    return core::Status::Ok();
  }
  core::Result<SourceState> Initialize(const SeedFn&, const std::vector<PipelineInfo>&) override {
    SourceState state;
    state.stream_arn = "arn";
    std::lock_guard lock(mutex);
    ++initializations;
    if (superseded && current_runners > 0) {
      state.standby = true;
      state.standby_reason = "superseded";
    }
    if (!state.standby) superseded = false;
    for (const auto& [id, p] : partitions) state.total_segments += p.kind == PartitionKind::kSegment ? 1 : 0;
    return state;
  }
  core::Result<std::vector<HeldLease>> Renew() override {
    std::lock_guard lock(mutex);
    std::vector<HeldLease> held;
    for (auto& [id, p] : partitions) {
      if (p.owner != me_ || p.done) continue;
      p.expires = std::chrono::steady_clock::now() + ttl_;
      held.push_back({id, p.epoch});
    }
    return held;
  }
  core::Result<LeaseCounts> Counts() override {
    std::lock_guard lock(mutex);
    LeaseCounts counts;
    counts.superseded = superseded;
    counts.current_runners = current_runners;
    for (const auto& [id, p] : partitions) {
      if (p.done) continue;
      ++counts.pending;
      if (p.kind == PartitionKind::kSegment) ++counts.segments_pending;
      if (EligibleLocked(id)) ++counts.workable;
      if (p.owner == me_) ++counts.held;
    }
    return counts;
  }
  core::Result<std::vector<ClaimedPartition>> Claim(int max) override {
    std::lock_guard lock(mutex);
    std::vector<ClaimedPartition> out;
    if (superseded) return out;
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, p] : partitions) {
      if (static_cast<int>(out.size()) >= max) break;
      if (p.done || !EligibleLocked(id) || (!p.owner.empty() && p.expires > now)) continue;
      p.owner = me_;
      p.epoch += 1;
      p.expires = now + ttl_;
      ClaimedPartition lease;
      lease.id = id;
      lease.kind = p.kind;
      lease.parent = p.parent;
      lease.position = p.position;
      lease.epoch = p.epoch;
      out.push_back(lease);
      ++claims;
    }
    return out;
  }
  core::Status NoteLanes(const std::vector<std::pair<HeldLease, int>>&) override { return core::Status::Ok(); }
  core::Status Release(const std::vector<HeldLease>& leases, const std::string&) override {
    std::lock_guard lock(mutex);
    for (const auto& lease : leases) {
      auto& p = partitions.at(lease.id);
      if (p.owner == me_ && p.epoch == lease.epoch) p.owner.clear();
    }
    return core::Status::Ok();
  }
  core::Status SyncShards(const std::vector<ShardInfo>&) override { return core::Status::Ok(); }
  core::Status AddShards(const std::vector<ShardInfo>&) override { return core::Status::Ok(); }
  core::Result<std::vector<std::pair<std::string, std::string>>> PendingShards() override {
    return std::vector<std::pair<std::string, std::string>>{};
  }
  core::Status StartOver(const CheckpointSeed&) override { return core::Status::Ok(); }
  core::Status Deregister() override {
    std::lock_guard lock(mutex);
    for (auto& [id, p] : partitions) {
      if (p.owner == me_) p.owner.clear();
    }
    return core::Status::Ok();
  }
  void Close() override {}

  bool AllDone() {
    std::lock_guard lock(mutex);
    for (const auto& [id, p] : partitions) {
      if (!p.done) return false;
    }
    return true;
  }

  std::mutex mutex;
  std::map<std::string, FakePartition> partitions;
  // Committed data: how many times each (key, version) row was applied, and dead letters.
  std::map<std::string, int> applied;
  std::map<std::string, int> commits_touching;  // partition → commits that advanced it
  std::vector<std::string> dead_letters;
  int claims = 0;
  bool superseded = false;  // guarded by mutex, like everything above
  int current_runners = 1;
  int initializations = 0;

 private:
  bool EligibleLocked(const std::string& id) const {
    const FakePartition& p = partitions.at(id);
    if (p.kind == PartitionKind::kSegment) return true;
    for (const auto& [other, q] : partitions) {
      if (q.kind == PartitionKind::kSegment && !q.done) return false;
    }
    auto parent = partitions.find(p.parent);
    return p.parent.empty() || parent == partitions.end() || parent->second.done;
  }

  std::chrono::milliseconds ttl_;
  std::string me_;
};

class FakeSink final : public Sink {
 public:
  enum class Fault { kNone, kDropBeforeCommit, kDropAfterCommit, kLoseLandedCommit };
  FakeSink(FakeStore& store, std::string runner) : store_(store), runner_(std::move(runner)) {}

  static std::atomic<int>& faults_left() {
    static std::atomic<int> left{0};
    return left;
  }
  static std::atomic<Fault>& fault() {
    static std::atomic<Fault> f{Fault::kNone};
    return f;
  }

  core::Status Open() override {
    connected_ = true;
    return core::Status::Ok();
  }
  core::Result<CommitResult> Commit(const model::Batch& batch, const std::vector<PartitionAdvance>& advances) override {
    if (!connected_) return core::Status::Unavailable("closed");
    Fault f = Fault::kNone;
    if (faults_left().load() > 0 && faults_left().fetch_sub(1) > 0) f = fault().load();
    if (f == Fault::kDropBeforeCommit) {
      connected_ = false;
      return core::Status::Unavailable("connection lost before COMMIT");
    }
    std::lock_guard lock(store_.mutex);
    CommitResult result;
    for (const auto& advance : advances) {
      const auto& p = store_.partitions.at(advance.id);
      if (p.owner != runner_ || p.epoch != advance.epoch) result.lost.push_back(advance.id);
    }
    if (!result.lost.empty()) return result;
    const auto saved = store_.partitions;
    const auto saved_applied = store_.applied;
    for (const auto& advance : advances) {
      auto& p = store_.partitions.at(advance.id);
      if (!advance.position.empty()) p.position = advance.position;
      if (advance.done) p.done = true;
    }
    for (const auto& advance : advances) store_.commits_touching[advance.id] += 1;
    for (const auto& table : batch.tables) {
      for (const auto& row : table.rows) store_.applied[std::string(row.cell(0)) + "@" + std::string(row.cell(1))] += 1;
      result.tables.push_back({static_cast<int64_t>(table.rows.size()), 0, 0});
    }
    for (const auto& letter : batch.dead_letters) store_.dead_letters.push_back(letter.key_json);
    if (f == Fault::kDropAfterCommit) {
      connected_ = false;
      return core::Status::Unavailable("connection lost after COMMIT (acknowledgement lost)");
    }
    if (f == Fault::kLoseLandedCommit) {
      // A server crash loses an acknowledged asynchronous commit: data and positions with it.
      // This runner learns of it only after its next commit fails.
      lost_commit_ = {saved, saved_applied};
      return result;
    }
    if (lost_commit_) {
      store_.partitions = lost_commit_->first;
      store_.applied = lost_commit_->second;
      lost_commit_.reset();
      connected_ = false;
      return core::Status::Unavailable("server crashed");
    }
    return result;
  }
  core::Result<std::map<std::string, StoredPartition>> ReadPositions(const std::vector<std::string>& ids) override {
    std::lock_guard lock(store_.mutex);
    std::map<std::string, StoredPartition> out;
    for (const auto& id : ids) {
      const auto& p = store_.partitions.at(id);
      out[id] = {p.position, p.done, p.owner, p.epoch};
    }
    return out;
  }
  void Close() override { connected_ = false; }

 private:
  FakeStore& store_;
  std::string runner_;
  bool connected_ = false;
  std::optional<std::pair<std::map<std::string, FakePartition>, std::map<std::string, int>>> lost_commit_;
};

// Scripted partitions: each a list of (id, version) items; offsets are item indexes ("0", "1" …).
class FakeSource final : public RecordSource {
 public:
  void Script(const std::string& partition, std::vector<std::pair<std::string, int64_t>> items) {
    std::lock_guard lock(mutex_);
    items_[partition] = std::move(items);
  }
  core::Result<SourceLayout> Describe() override {
    ++describes;
    if (describe_failures.fetch_sub(1) > 0) return core::Status(describe_failure, "DynamoDB is down (fake)");
    return SourceLayout{"arn", {}, 0};
  }
  core::Result<std::vector<ShardInfo>> ListShards(const std::string&) override {
    ++full_listings;
    if (list_failures.fetch_sub(1) > 0) return core::Status(core::StatusCode::kDeadlineExceeded, "retries ran out (fake)");
    return std::vector<ShardInfo>{};
  }
  core::Result<std::vector<ShardInfo>> ListShardsAfter(const std::string&, const std::string&) override {
    ++listings_after;
    if (list_failures.fetch_sub(1) > 0) return core::Status(core::StatusCode::kDeadlineExceeded, "retries ran out (fake)");
    return std::vector<ShardInfo>{};
  }
  core::Result<std::optional<std::vector<ShardInfo>>> ListChildShards(const std::string&, const std::string&) override {
    return std::optional<std::vector<ShardInfo>>(std::vector<ShardInfo>{});
  }
  int64_t describe_stream_calls() const override { return full_listings + listings_after; }
  core::Result<CheckpointSeed> Seed(const SourceLayout&, const std::optional<std::string>&) override { return CheckpointSeed{}; }

  class Reader final : public PartitionReader {
   public:
    Reader(std::vector<std::pair<std::string, int64_t>> items, ClaimedPartition lease, uint64_t tag,
           core::BoundedQueue<core::Record>* out, bool slow, int trickle_ms, bool report_catching_up)
        : catching_up_(report_catching_up && lease.kind == PartitionKind::kShard),
          thread_([=, this] {
            size_t start = lease.position.empty() ? 0 : std::stoul(lease.position) + 1;
            for (size_t i = start; i < items.size() && !stop_; ++i) {
              core::Record record;
              record.operation = lease.kind == PartitionKind::kSegment ? core::Operation::kSnapshot
                                                                       : core::Operation::kUpdate;
              record.key = core::Value::MakeMap({{"id", core::Value::String(items[i].first)}});
              record.after = core::Value::MakeMap({{"id", core::Value::String(items[i].first)},
                                                   {"v", core::Value::Number(std::to_string(items[i].second))}});
              record.position = {lease.id, std::to_string(i), i + 1 == items.size()};
              record.reader_tag = tag;
              if (i + 1 == items.size()) catching_up_ = false;  // its last page
              if (!out->PushUnless(std::move(record), stop_)) return;
              ++records_;
              if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(2));
              if (trickle_ms > 0 && lease.kind == PartitionKind::kShard) {
                std::this_thread::sleep_for(std::chrono::milliseconds(trickle_ms));
              }
            }
          }) {}
    ~Reader() override { Stop(); }
    void Stop() override {
      stop_ = true;
      if (thread_.joinable()) thread_.join();
    }
    core::Status status() const override { return core::Status::Ok(); }
    int64_t records() const override { return records_; }
    bool catching_up() const override { return catching_up_; }

   private:
    std::atomic<bool> catching_up_;
    std::atomic<bool> stop_{false};
    std::atomic<int64_t> records_{0};
    std::thread thread_;
  };

  std::unique_ptr<PartitionReader> Open(const ClaimedPartition& lease, const std::string&, uint64_t tag,
                                        core::BoundedQueue<core::Record>* out, core::FetchGate*) override {
    std::lock_guard lock(mutex_);
    ++opens;
    return std::make_unique<Reader>(items_[lease.id], lease, tag, out, slow, trickle_ms, report_catching_up);
  }

  std::atomic<int> opens{0};
  bool slow = false;
  int trickle_ms = 0;               // a shard's records come this far apart
  bool report_catching_up = false;  // shard readers say they catch up until their last record
  // Describe / ListShards fail this many times first (transient faults: the runtime must wait them out).
  std::atomic<int> describe_failures{0};
  core::StatusCode describe_failure = core::StatusCode::kUnavailable;
  std::atomic<int> describes{0};
  std::atomic<int> list_failures{0};
  std::atomic<int> full_listings{0};
  std::atomic<int> listings_after{0};

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<std::pair<std::string, int64_t>>> items_;
};

}  // namespace ddb2pg::pipeline::testing

// Typed keyed state for operator authors: ValueState, ListState, MapState,
// ReducingState and AggregatingState over a KeyedStateBackend and a KeyContext.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/state/key_context.h"
#include "runtime/state/keyed_state_backend.h"
#include "runtime/state/state_serializer.h"

namespace sluice {
namespace detail {

/// What every typed state holds: the backend, the key context and the state id.
/// The backend and context must outlive the state object.
class TypedStateBase {
 protected:
  TypedStateBase(KeyedStateBackend& backend, const KeyContext& context, int id)
      : backend_(&backend), context_(&context), id_(id) {}
  static Result<int> registerIn(KeyedStateBackend& backend, std::string name, StateKind kind,
                                std::optional<std::chrono::milliseconds> ttl) {
    return backend.registerState(StateDescriptor{std::move(name), kind, ttl});
  }
  StateKey key(std::string_view userKey = {}) const { return context_->stateKey(id_, userKey); }

  KeyedStateBackend* backend_;
  const KeyContext* context_;
  int id_;

 public:
  int id() const { return id_; }
};

}  // namespace detail

/// One value per key. Lifecycle: create once (in open), use per key.
template <typename T, typename Serializer = StateSerializer<T>>
class ValueState : public detail::TypedStateBase {
 public:
  static Result<ValueState> create(KeyedStateBackend& backend, const KeyContext& context, std::string name,
                                   std::optional<std::chrono::milliseconds> ttl = {}) {
    SLUICE_ASSIGN_OR_RETURN(int id, registerIn(backend, std::move(name), StateKind::kValue, ttl));
    return ValueState(backend, context, id);
  }
  /// The current key's value, or nullopt.
  Result<std::optional<T>> value() const {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, backend_->get(key()));
    if (!bytes) return std::optional<T>();
    SLUICE_ASSIGN_OR_RETURN(T value, Serializer::deserialize(*bytes));
    return std::optional<T>(std::move(value));
  }
  Status update(const T& value) { return backend_->put(key(), serializeState<T, Serializer>(value)); }
  Status clear() { return backend_->remove(key()); }

 private:
  using TypedStateBase::TypedStateBase;
};

/// An ordered list per key.
template <typename T, typename Serializer = StateSerializer<T>>
class ListState : public detail::TypedStateBase {
 public:
  static Result<ListState> create(KeyedStateBackend& backend, const KeyContext& context, std::string name,
                                  std::optional<std::chrono::milliseconds> ttl = {}) {
    SLUICE_ASSIGN_OR_RETURN(int id, registerIn(backend, std::move(name), StateKind::kList, ttl));
    return ListState(backend, context, id);
  }
  Status add(const T& element) { return backend_->append(key(), serializeState<T, Serializer>(element)); }
  /// The elements in insertion order (empty when none).
  Result<std::vector<T>> get() const {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> elements, backend_->getList(key()));
    std::vector<T> values;
    values.reserve(elements.size());
    for (const std::string& element : elements) {
      SLUICE_ASSIGN_OR_RETURN(T value, Serializer::deserialize(element));
      values.push_back(std::move(value));
    }
    return values;
  }
  /// Replaces the elements.
  Status update(const std::vector<T>& values) {
    std::vector<std::string> elements;
    elements.reserve(values.size());
    for (const T& value : values) elements.push_back(serializeState<T, Serializer>(value));
    return backend_->putList(key(), elements);
  }
  Status clear() { return backend_->remove(key()); }

 private:
  using TypedStateBase::TypedStateBase;
};

/// A sorted map per key; iteration follows the serialised user-key bytes,
/// which is numeric order for int64/uint64/double keys and byte order for strings.
template <typename K, typename V, typename KeySerializer = StateSerializer<K>,
          typename ValueSerializer = StateSerializer<V>>
class MapState : public detail::TypedStateBase {
 public:
  static Result<MapState> create(KeyedStateBackend& backend, const KeyContext& context, std::string name,
                                 std::optional<std::chrono::milliseconds> ttl = {}) {
    SLUICE_ASSIGN_OR_RETURN(int id, registerIn(backend, std::move(name), StateKind::kMap, ttl));
    return MapState(backend, context, id);
  }
  Result<std::optional<V>> get(const K& userKey) const {
    std::string keyBytes = serializeState<K, KeySerializer>(userKey);
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, backend_->get(key(keyBytes)));
    if (!bytes) return std::optional<V>();
    SLUICE_ASSIGN_OR_RETURN(V value, ValueSerializer::deserialize(*bytes));
    return std::optional<V>(std::move(value));
  }
  Result<bool> contains(const K& userKey) const {
    SLUICE_ASSIGN_OR_RETURN(std::optional<V> value, get(userKey));
    return value.has_value();
  }
  Status put(const K& userKey, const V& value) {
    std::string keyBytes = serializeState<K, KeySerializer>(userKey);
    return backend_->put(key(keyBytes), serializeState<V, ValueSerializer>(value));
  }
  Status remove(const K& userKey) {
    std::string keyBytes = serializeState<K, KeySerializer>(userKey);
    return backend_->remove(key(keyBytes));
  }
  /// Visits entries in key order until `visit` returns false. `visit` must not modify state.
  Status forEach(const std::function<bool(const K&, const V&)>& visit) const {
    Status failure;
    SLUICE_RETURN_NOT_OK(backend_->scanMap(key(), [&](std::string_view userKey, std::string_view value) {
      auto decodedKey = KeySerializer::deserialize(userKey);
      auto decodedValue = ValueSerializer::deserialize(value);
      if (!decodedKey.ok() || !decodedValue.ok()) {
        failure = decodedKey.ok() ? decodedValue.status() : decodedKey.status();
        return false;
      }
      return visit(*decodedKey, *decodedValue);
    }));
    return failure;
  }
  /// All entries in key order.
  Result<std::vector<std::pair<K, V>>> entries() const {
    std::vector<std::pair<K, V>> result;
    SLUICE_RETURN_NOT_OK(forEach([&](const K& userKey, const V& value) {
      result.emplace_back(userKey, value);
      return true;
    }));
    return result;
  }
  Result<bool> isEmpty() const {
    bool empty = true;
    SLUICE_RETURN_NOT_OK(backend_->scanMap(key(), [&](std::string_view, std::string_view) {
      empty = false;
      return false;
    }));
    return empty;
  }
  Status clear() { return backend_->clear(key()); }

 private:
  using TypedStateBase::TypedStateBase;
};

/// A value per key folded with `reduce` on every add (as Flink's ReducingState).
template <typename T, typename Serializer = StateSerializer<T>>
class ReducingState : public detail::TypedStateBase {
 public:
  using ReduceFunction = std::function<T(const T& accumulated, const T& added)>;
  static Result<ReducingState> create(KeyedStateBackend& backend, const KeyContext& context, std::string name,
                                      ReduceFunction reduce, std::optional<std::chrono::milliseconds> ttl = {}) {
    SLUICE_ASSIGN_OR_RETURN(int id, registerIn(backend, std::move(name), StateKind::kReducing, ttl));
    return ReducingState(backend, context, id, std::move(reduce));
  }
  Status add(const T& value) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<T> current, get());
    return backend_->put(key(), serializeState<T, Serializer>(current ? reduce_(*current, value) : value));
  }
  Result<std::optional<T>> get() const {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, backend_->get(key()));
    if (!bytes) return std::optional<T>();
    SLUICE_ASSIGN_OR_RETURN(T value, Serializer::deserialize(*bytes));
    return std::optional<T>(std::move(value));
  }
  Status clear() { return backend_->remove(key()); }

 private:
  ReducingState(KeyedStateBackend& backend, const KeyContext& context, int id, ReduceFunction reduce)
      : TypedStateBase(backend, context, id), reduce_(std::move(reduce)) {}
  ReduceFunction reduce_;
};

/// The three functions of an aggregation (as Flink's AggregateFunction).
template <typename In, typename Accumulator, typename Out>
struct AggregateFunction {
  std::function<Accumulator()> createAccumulator;
  std::function<Accumulator(Accumulator, const In&)> add;
  std::function<Out(const Accumulator&)> getResult;
};

/// An accumulator per key, updated on every add; `get` returns the result.
template <typename In, typename Accumulator, typename Out,
          typename AccumulatorSerializer = StateSerializer<Accumulator>>
class AggregatingState : public detail::TypedStateBase {
 public:
  using Function = AggregateFunction<In, Accumulator, Out>;
  static Result<AggregatingState> create(KeyedStateBackend& backend, const KeyContext& context, std::string name,
                                         Function function, std::optional<std::chrono::milliseconds> ttl = {}) {
    SLUICE_ASSIGN_OR_RETURN(int id, registerIn(backend, std::move(name), StateKind::kAggregating, ttl));
    return AggregatingState(backend, context, id, std::move(function));
  }
  Status add(const In& value) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Accumulator> current, accumulator());
    Accumulator next = function_.add(current ? std::move(*current) : function_.createAccumulator(), value);
    return backend_->put(key(), serializeState<Accumulator, AccumulatorSerializer>(next));
  }
  /// The result for the current key, or nullopt when nothing was added.
  Result<std::optional<Out>> get() const {
    SLUICE_ASSIGN_OR_RETURN(std::optional<Accumulator> current, accumulator());
    if (!current) return std::optional<Out>();
    return std::optional<Out>(function_.getResult(*current));
  }
  Status clear() { return backend_->remove(key()); }

 private:
  AggregatingState(KeyedStateBackend& backend, const KeyContext& context, int id, Function function)
      : TypedStateBase(backend, context, id), function_(std::move(function)) {}
  Result<std::optional<Accumulator>> accumulator() const {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, backend_->get(key()));
    if (!bytes) return std::optional<Accumulator>();
    SLUICE_ASSIGN_OR_RETURN(Accumulator value, AccumulatorSerializer::deserialize(*bytes));
    return std::optional<Accumulator>(std::move(value));
  }
  Function function_;
};

}  // namespace sluice

/**
 * Generalised processor sharing over `capacity` slots: each claimant i gets
 * `min(demand_i, level * weight_i)`, with the level chosen so that the capacity is used up (or
 * every demand met). This is max-min fairness weighted by `weights` ("water-filling"). Writes the
 * rates into `out` (same order as the inputs) and returns nothing, to avoid allocation in loops.
 */
export function waterFill(demands: readonly number[], weights: readonly number[], capacity: number, out: number[]): void {
  const count = demands.length;
  const order: number[] = [];
  let totalDemand = 0;
  for (let i = 0; i < count; i++) {
    order.push(i);
    totalDemand += demands[i] as number;
  }
  out.length = count;
  if (totalDemand <= capacity) {
    for (let i = 0; i < count; i++) out[i] = demands[i] as number;
    return;
  }
  order.sort((a, b) => (demands[a] as number) / (weights[a] as number) - (demands[b] as number) / (weights[b] as number));
  let remainingWeight = 0;
  for (let i = 0; i < count; i++) remainingWeight += weights[i] as number;
  let remainingCapacity = capacity;
  for (let k = 0; k < count; k++) {
    const i = order[k] as number;
    const weight = weights[i] as number;
    const demand = demands[i] as number;
    const fairShare = (remainingCapacity * weight) / remainingWeight;
    if (demand <= fairShare) {
      out[i] = demand;
      remainingCapacity -= demand;
      remainingWeight -= weight;
    } else {
      // Every claimant from here on is limited by the level, not by its demand.
      const level = remainingCapacity / remainingWeight;
      for (let rest = k; rest < count; rest++) {
        const j = order[rest] as number;
        out[j] = level * (weights[j] as number);
      }
      return;
    }
  }
}

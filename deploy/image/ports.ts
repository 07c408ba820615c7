/** Each service's default port (its config schema's `port` default; the deployment test keeps them equal). */
export const DEFAULT_PORTS: Record<string, number> = {
  identity: 9000,
  users: 8001,
  catalog: 8002,
  orders: 8003,
  payments: 8004,
  gateway: 8000,
  web: 3000,
};

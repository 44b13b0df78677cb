# TabSwarm's service (the app and the tracker on one port) in a container, built from the
# repository with the README's commands. `docker run --init -p 8080:8080/tcp -p 8080:8080/udp tabswarm`
# (see docs/deployment.md).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
COPY signaling-server signaling-server
COPY src/protocol src/protocol
ENV PORT=8080
EXPOSE 8080/tcp 8080/udp
USER node
# SIGTERM drains: clients are told to reconnect, and the process exits within SHUTDOWN_GRACE_MS.
STOPSIGNAL SIGTERM
CMD ["npm", "run", "serve"]

defmodule SampleApp.ViewCounter do
  @moduledoc "Counts post views in ETS."

  @table :post_views

  # OT005: the table is created by whichever request counts first and is
  # deleted when that request's process exits.
  def bump(post_id) do
    if :ets.whereis(@table) == :undefined do
      :ets.new(@table, [:named_table, :public, write_concurrency: true])
    end

    :ets.update_counter(@table, post_id, 1, {post_id, 0})
  end

  def count(post_id) do
    case :ets.lookup(@table, post_id) do
      [{^post_id, count}] -> count
      [] -> 0
    end
  end
end
